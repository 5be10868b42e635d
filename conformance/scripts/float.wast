;; Float → integer conversions at their exact limits ("integer overflow"
;; one step past the range, "invalid conversion to integer" for NaN), the
;; saturating forms that never trap, and NaN results checked with
;; nan:canonical / nan:arithmetic.
;;
;; A `;; vector N` note on an assert_trap line is the x86 vector that raises
;; the trap under signals-based traps: `cvttss2si`/`cvttsd2si` do not fault,
;; so Cranelift checks the input and traps with `ud2` (#UD 6) in both trap
;; modes; only the explicit mode reports no vector.
;;
;; Limits used: 2147483520 = 2^31 - 128 and 4294967040 = 2^32 - 256 are the
;; largest f32 values below 2^31 and 2^32; -2147483904 = -(2^31 + 256) is
;; the next f32 below -2^31. 9223372036854774784 = 2^63 - 1024 and
;; 18446744073709549568 = 2^64 - 2048 are the largest f64 values below 2^63
;; and 2^64; -9223372036854777856 = -(2^63 + 2048) is the next f64 below
;; -2^63.

(module
  (func (export "i32.trunc_f32_s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "i32.trunc_f32_u") (param f32) (result i32) (i32.trunc_f32_u (local.get 0)))
  (func (export "i32.trunc_f64_s") (param f64) (result i32) (i32.trunc_f64_s (local.get 0)))
  (func (export "i32.trunc_f64_u") (param f64) (result i32) (i32.trunc_f64_u (local.get 0)))
  (func (export "i64.trunc_f32_s") (param f32) (result i64) (i64.trunc_f32_s (local.get 0)))
  (func (export "i64.trunc_f64_s") (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
  (func (export "i64.trunc_f64_u") (param f64) (result i64) (i64.trunc_f64_u (local.get 0)))
  (func (export "i32.trunc_sat_f32_s") (param f32) (result i32) (i32.trunc_sat_f32_s (local.get 0)))
  (func (export "i64.trunc_sat_f64_u") (param f64) (result i64) (i64.trunc_sat_f64_u (local.get 0)))
  (func (export "f32.add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func (export "f32.sub") (param f32 f32) (result f32) (f32.sub (local.get 0) (local.get 1)))
  (func (export "f32.div") (param f32 f32) (result f32) (f32.div (local.get 0) (local.get 1)))
  (func (export "f32.neg") (param f32) (result f32) (f32.neg (local.get 0)))
  (func (export "f64.mul") (param f64 f64) (result f64) (f64.mul (local.get 0) (local.get 1)))
  (func (export "f64.div") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
  (func (export "f64.sqrt") (param f64) (result f64) (f64.sqrt (local.get 0)))
  (func (export "f32.demote_f64") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
  (func (export "f64.promote_f32") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
)

;; i32 from f32.
(assert_return (invoke "i32.trunc_f32_s" (f32.const -1.9)) (i32.const -1))
(assert_return (invoke "i32.trunc_f32_s" (f32.const 2147483520.0)) (i32.const 2147483520))
(assert_trap (invoke "i32.trunc_f32_s" (f32.const 2147483648.0)) "integer overflow") ;; vector 6
(assert_return (invoke "i32.trunc_f32_s" (f32.const -2147483648.0)) (i32.const -2147483648))
(assert_trap (invoke "i32.trunc_f32_s" (f32.const -2147483904.0)) "integer overflow") ;; vector 6
(assert_trap (invoke "i32.trunc_f32_s" (f32.const inf)) "integer overflow") ;; vector 6
(assert_trap (invoke "i32.trunc_f32_s" (f32.const nan)) "invalid conversion to integer") ;; vector 6
(assert_trap (invoke "i32.trunc_f32_s" (f32.const -nan:0x200000)) "invalid conversion to integer") ;; vector 6
(assert_return (invoke "i32.trunc_f32_u" (f32.const -0.9)) (i32.const 0))
(assert_return (invoke "i32.trunc_f32_u" (f32.const 4294967040.0)) (i32.const -256))
(assert_trap (invoke "i32.trunc_f32_u" (f32.const 4294967296.0)) "integer overflow") ;; vector 6
(assert_trap (invoke "i32.trunc_f32_u" (f32.const -1.0)) "integer overflow") ;; vector 6
(assert_trap (invoke "i32.trunc_f32_u" (f32.const nan)) "invalid conversion to integer") ;; vector 6

;; i32 from f64: fractions just inside the range truncate; the next whole
;; number outside traps.
(assert_return (invoke "i32.trunc_f64_s" (f64.const 2147483647.9)) (i32.const 2147483647))
(assert_trap (invoke "i32.trunc_f64_s" (f64.const 2147483648.0)) "integer overflow") ;; vector 6
(assert_return (invoke "i32.trunc_f64_s" (f64.const -2147483648.9)) (i32.const -2147483648))
(assert_trap (invoke "i32.trunc_f64_s" (f64.const -2147483649.0)) "integer overflow") ;; vector 6
(assert_return (invoke "i32.trunc_f64_u" (f64.const 4294967295.9)) (i32.const -1))
(assert_trap (invoke "i32.trunc_f64_u" (f64.const 4294967296.0)) "integer overflow") ;; vector 6
(assert_trap (invoke "i32.trunc_f64_u" (f64.const -nan)) "invalid conversion to integer") ;; vector 6

;; i64 from f32 and f64.
(assert_return (invoke "i64.trunc_f32_s" (f32.const -9223372036854775808.0)) (i64.const -9223372036854775808))
(assert_trap (invoke "i64.trunc_f32_s" (f32.const 9223372036854775808.0)) "integer overflow") ;; vector 6
(assert_trap (invoke "i64.trunc_f32_s" (f32.const nan)) "invalid conversion to integer") ;; vector 6
(assert_return (invoke "i64.trunc_f64_s" (f64.const 9223372036854774784.0)) (i64.const 9223372036854774784))
(assert_trap (invoke "i64.trunc_f64_s" (f64.const 9223372036854775808.0)) "integer overflow") ;; vector 6
(assert_return (invoke "i64.trunc_f64_s" (f64.const -9223372036854775808.0)) (i64.const -9223372036854775808))
(assert_trap (invoke "i64.trunc_f64_s" (f64.const -9223372036854777856.0)) "integer overflow") ;; vector 6
(assert_return (invoke "i64.trunc_f64_u" (f64.const 18446744073709549568.0)) (i64.const -2048))
(assert_trap (invoke "i64.trunc_f64_u" (f64.const 18446744073709551616.0)) "integer overflow") ;; vector 6
(assert_trap (invoke "i64.trunc_f64_u" (f64.const -1.0)) "integer overflow") ;; vector 6
(assert_trap (invoke "i64.trunc_f64_u" (f64.const nan:0x4000000000000)) "invalid conversion to integer") ;; vector 6

;; Saturating conversions clamp instead of trapping; NaN becomes 0.
(assert_return (invoke "i32.trunc_sat_f32_s" (f32.const nan)) (i32.const 0))
(assert_return (invoke "i32.trunc_sat_f32_s" (f32.const inf)) (i32.const 2147483647))
(assert_return (invoke "i32.trunc_sat_f32_s" (f32.const -inf)) (i32.const -2147483648))
(assert_return (invoke "i64.trunc_sat_f64_u" (f64.const -1.0)) (i64.const 0))
(assert_return (invoke "i64.trunc_sat_f64_u" (f64.const 1e30)) (i64.const -1))

;; NaN results: invalid operations give a canonical NaN (either sign); an
;; operation on a NaN gives an arithmetic NaN (quiet bit set, payload free);
;; neg, demote and promote of a canonical NaN stay canonical.
(assert_return (invoke "f32.div" (f32.const 0) (f32.const 0)) (f32.const nan:canonical))
(assert_return (invoke "f32.sub" (f32.const inf) (f32.const inf)) (f32.const nan:canonical))
(assert_return (invoke "f64.div" (f64.const 0) (f64.const -0)) (f64.const nan:canonical))
(assert_return (invoke "f64.sqrt" (f64.const -1)) (f64.const nan:canonical))
(assert_return (invoke "f32.add" (f32.const nan:0x200000) (f32.const 1)) (f32.const nan:arithmetic))
(assert_return (invoke "f64.mul" (f64.const -nan:0x4000000000000) (f64.const 2)) (f64.const nan:arithmetic))
(assert_return (invoke "f32.demote_f64" (f64.const nan)) (f32.const nan:canonical))
(assert_return (invoke "f32.demote_f64" (f64.const nan:0x4000000000000)) (f32.const nan:arithmetic))
(assert_return (invoke "f64.promote_f32" (f32.const -nan)) (f64.const nan:canonical))
;; neg is a bit operation: it flips the sign and keeps any payload exactly.
(assert_return (invoke "f32.neg" (f32.const nan:0x200000)) (f32.const -nan:0x200000))
(assert_return (invoke "f32.neg" (f32.const 0)) (f32.const -0))

;; Exact values next to the NaN cases.
(assert_return (invoke "f64.div" (f64.const 1) (f64.const 0)) (f64.const inf))
(assert_return (invoke "f64.div" (f64.const -1) (f64.const 0)) (f64.const -inf))
(assert_return (invoke "f32.div" (f32.const 1) (f32.const -0)) (f32.const -inf))
(assert_return (invoke "f64.sqrt" (f64.const 2)) (f64.const 0x1.6a09e667f3bcdp+0))
(assert_return (invoke "f32.add" (f32.const 0x1p-149) (f32.const 0x1p-149)) (f32.const 0x1p-148))
(assert_return (invoke "f64.mul" (f64.const 0x1p-1022) (f64.const 0.5)) (f64.const 0x1p-1023))
