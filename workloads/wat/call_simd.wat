;; call.simd: a call whose body is SIMD byte permutations, the instructions
;; a soft-float kernel cannot afford as libcalls. Without SSSE3 Cranelift
;; lowers `i8x16.shuffle` and `i8x16.swizzle` to calls into wasmtime's
;; i8x16 libcalls, which the kernel's wasmtime (built for a soft-float
;; target) has only as `unreachable!()`; every CPU profile of
;; `traplab_suite::cpu` but `sse4.1-only` makes them inline `pshufb`s, and
;; the host refuses this module for that one before any boot.
;;
;; The arguments fill a vector; it is byte-reversed (shuffle of one
;; vector), interleaved with the original (shuffle of two), and permuted
;; by a constant index vector with one out-of-range index (swizzle gives 0
;; there); the lanes are folded into the result, so a wrong permutation
;; changes it.
(module
  (func (export "run") (param $a i32) (param $b i32) (result i32)
    (local $v v128) (local $w v128)
    (local.set $v (i32x4.replace_lane 1 (i32x4.splat (local.get $a)) (local.get $b)))
    (local.set $v (i32x4.replace_lane 2 (local.get $v) (i32.xor (local.get $a) (local.get $b))))
    (local.set $w (i8x16.shuffle 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0
      (local.get $v) (local.get $v)))
    (local.set $w (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31
      (local.get $v) (local.get $w)))
    (local.set $w (i8x16.swizzle (local.get $w)
      (v128.const i8x16 3 1 4 1 5 9 2 6 5 3 5 8 9 7 9 200)))
    (i32.add
      (i32.xor (i32x4.extract_lane 0 (local.get $w)) (i32x4.extract_lane 1 (local.get $w)))
      (i32.xor (i32x4.extract_lane 2 (local.get $w)) (i32x4.extract_lane 3 (local.get $w))))))
