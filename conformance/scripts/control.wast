;; Traps of control flow: unreachable, call_indirect (null entry, index past
;; the table, signature mismatch) and call-stack exhaustion. After each
;; trap the same instance keeps working.
;;
;; A `;; vector N` note on an assert_trap/assert_exhaustion line is the x86
;; vector that raises the trap under signals-based traps: `unreachable`,
;; the signature check and the stack-limit check are Cranelift `ud2`s
;; (#UD 6). Both table traps are page faults (#PF 14): a null entry is
;; loaded through as a null function reference, and the Spectre-hardened
;; table bounds check turns an index past the end into a null address
;; instead of branching to a trap. Explicit checks raise no exception.

(module
  (type $to_i32 (func (result i32)))
  (type $i32_to_i32 (func (param i32) (result i32)))
  (table 4 funcref)
  ;; Slots 2 and 3 stay null.
  (elem (i32.const 0) $forty_two $double)
  (func $forty_two (type $to_i32) (i32.const 42))
  (func $double (type $i32_to_i32) (i32.mul (local.get 0) (i32.const 2)))

  (func (export "call_to_i32") (param $slot i32) (result i32)
    (call_indirect (type $to_i32) (local.get $slot)))
  (func (export "call_i32_to_i32") (param $slot i32) (param $x i32) (result i32)
    (call_indirect (type $i32_to_i32) (local.get $x) (local.get $slot)))

  (func (export "unreachable") (unreachable))
  ;; Traps only for 0, three calls deep.
  (func $check (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (unreachable)))
    (local.get 0))
  (func $middle (param i32) (result i32) (i32.add (call $check (local.get 0)) (i32.const 1)))
  (func (export "nonzero_plus_one") (param i32) (result i32) (call $middle (local.get 0)))

  ;; Unbounded recursion, direct and mutual.
  (func $runaway (export "runaway") (param i32) (result i32)
    (call $runaway (i32.add (local.get 0) (i32.const 1))))
  (func $ping (param i32) (result i32) (call $pong (i32.add (local.get 0) (i32.const 1))))
  (func $pong (param i32) (result i32) (call $ping (i32.add (local.get 0) (i32.const 1))))
  (func (export "ping_pong") (param i32) (result i32) (call $ping (local.get 0)))
  ;; Bounded recursion deep enough to need real stack, far from the limit.
  (func $sum_to (export "sum_to") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (local.get 0) (call $sum_to (i64.sub (local.get 0) (i64.const 1)))))))
)

(assert_return (invoke "call_to_i32" (i32.const 0)) (i32.const 42))
(assert_return (invoke "call_i32_to_i32" (i32.const 1) (i32.const 21)) (i32.const 42))
(assert_trap (invoke "call_to_i32" (i32.const 1)) "indirect call type mismatch") ;; vector 6
(assert_trap (invoke "call_i32_to_i32" (i32.const 0) (i32.const 1)) "indirect call type mismatch") ;; vector 6
(assert_trap (invoke "call_to_i32" (i32.const 2)) "uninitialized element") ;; vector 14
(assert_trap (invoke "call_to_i32" (i32.const 3)) "uninitialized element") ;; vector 14
(assert_trap (invoke "call_to_i32" (i32.const 4)) "undefined element") ;; vector 14
(assert_trap (invoke "call_to_i32" (i32.const -1)) "undefined element") ;; vector 14
(assert_return (invoke "call_to_i32" (i32.const 0)) (i32.const 42))

(assert_trap (invoke "unreachable") "unreachable") ;; vector 6
(assert_trap (invoke "nonzero_plus_one" (i32.const 0)) "unreachable") ;; vector 6
(assert_return (invoke "nonzero_plus_one" (i32.const 41)) (i32.const 42))

(assert_exhaustion (invoke "runaway" (i32.const 0)) "call stack exhausted") ;; vector 6
(assert_exhaustion (invoke "ping_pong" (i32.const 0)) "call stack exhausted") ;; vector 6
(assert_trap (invoke "runaway" (i32.const 0)) "call stack exhausted") ;; vector 6
(assert_return (invoke "sum_to" (i64.const 1000)) (i64.const 500500))
(assert_return (invoke "call_i32_to_i32" (i32.const 1) (i32.const -4)) (i32.const -8))

;; Linking: the kernel keeps the script's instances in one store, with
;; the spectest module and registered instances importable.
(register "control")
(module
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "control" "sum_to" (func $sum_to (param i64) (result i64)))
  (func (export "print") (param i32) (call $print (local.get 0)))
  (func (export "sum_via_import") (param i64) (result i64) (call $sum_to (local.get 0))))
(invoke "print" (i32.const 1))
(assert_return (invoke "sum_via_import" (i64.const 10)) (i64.const 55))

;; Deliberately unsupported: the kernel passes scalar values only. Each is
;; listed and counted; none is dropped.
(module
  (func (export "splat") (param i32) (result v128) (i32x4.splat (local.get 0)))
  (func (export "lane0") (param v128) (result i32) (i32x4.extract_lane 0 (local.get 0))))
(assert_return (invoke "lane0" (v128.const i32x4 7 0 0 0)) (i32.const 7))
(assert_return (invoke "splat" (i32.const 7)) (v128.const i32x4 7 7 7 7))
