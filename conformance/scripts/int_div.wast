;; Integer division and remainder: the traps wasm defines for them and the
;; values it defines right next to them.
;;
;; A `;; vector N` note on an assert_trap line is the x86 vector that raises
;; the trap under signals-based traps (the boot test checks it; explicit
;; checks raise no exception). Divisors are parameters, so Cranelift cannot
;; fold the checks away: div_s gets an explicit zero test (ud2, #UD 6) in
;; front of its overflow test, while div_u, rem_s and rem_u leave a zero
;; divisor to the CPU's `div`/`idiv` (#DE 0).

(module
  (func (export "i32.div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "i32.div_u") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "i32.rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "i32.rem_u") (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
  (func (export "i64.div_s") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "i64.div_u") (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1)))
  (func (export "i64.rem_s") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func (export "i64.rem_u") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1)))
  ;; A trap in a callee unwinds through its caller.
  (func $average (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "mean") (param i32 i32) (result i32) (call $average (local.get 0) (local.get 1)))
)

;; i32: truncation toward zero, and what is defined next to each trap.
(assert_return (invoke "i32.div_s" (i32.const 7) (i32.const 2)) (i32.const 3))
(assert_return (invoke "i32.div_s" (i32.const -7) (i32.const 2)) (i32.const -3))
(assert_return (invoke "i32.div_s" (i32.const 0x80000000) (i32.const 1)) (i32.const 0x80000000))
(assert_return (invoke "i32.div_s" (i32.const 0x80000001) (i32.const -1)) (i32.const 0x7fffffff))
(assert_return (invoke "i32.div_u" (i32.const -1) (i32.const 2)) (i32.const 0x7fffffff))
(assert_return (invoke "i32.div_u" (i32.const 0x80000000) (i32.const -1)) (i32.const 0))
(assert_return (invoke "i32.rem_s" (i32.const -7) (i32.const 2)) (i32.const -1))
(assert_return (invoke "i32.rem_s" (i32.const 0x80000000) (i32.const -1)) (i32.const 0))
(assert_return (invoke "i32.rem_u" (i32.const -1) (i32.const 10)) (i32.const 5))

(assert_trap (invoke "i32.div_s" (i32.const 1) (i32.const 0)) "integer divide by zero") ;; vector 6
(assert_trap (invoke "i32.div_s" (i32.const 0) (i32.const 0)) "integer divide by zero") ;; vector 6
(assert_trap (invoke "i32.div_s" (i32.const 0x80000000) (i32.const 0)) "integer divide by zero") ;; vector 6
(assert_trap (invoke "i32.div_u" (i32.const 1) (i32.const 0)) "integer divide by zero") ;; vector 0
(assert_trap (invoke "i32.rem_s" (i32.const 1) (i32.const 0)) "integer divide by zero") ;; vector 0
(assert_trap (invoke "i32.rem_u" (i32.const 1) (i32.const 0)) "integer divide by zero") ;; vector 0
(assert_trap (invoke "i32.div_s" (i32.const 0x80000000) (i32.const -1)) "integer overflow") ;; vector 0
(assert_trap (invoke "mean" (i32.const 10) (i32.const 0)) "integer divide by zero") ;; vector 0
(assert_return (invoke "mean" (i32.const 10) (i32.const 4)) (i32.const 2))

;; i64: the same at 64 bits.
(assert_return (invoke "i64.div_s" (i64.const -7) (i64.const 2)) (i64.const -3))
(assert_return (invoke "i64.div_s" (i64.const 0x8000000000000000) (i64.const 1)) (i64.const 0x8000000000000000))
(assert_return (invoke "i64.div_u" (i64.const -1) (i64.const 2)) (i64.const 0x7fffffffffffffff))
(assert_return (invoke "i64.rem_s" (i64.const 0x8000000000000000) (i64.const -1)) (i64.const 0))
(assert_return (invoke "i64.rem_u" (i64.const -1) (i64.const 10)) (i64.const 5))

(assert_trap (invoke "i64.div_s" (i64.const 1) (i64.const 0)) "integer divide by zero") ;; vector 6
(assert_trap (invoke "i64.div_u" (i64.const 1) (i64.const 0)) "integer divide by zero") ;; vector 0
(assert_trap (invoke "i64.rem_s" (i64.const 1) (i64.const 0)) "integer divide by zero") ;; vector 0
(assert_trap (invoke "i64.rem_u" (i64.const 1) (i64.const 0)) "integer divide by zero") ;; vector 0
(assert_trap (invoke "i64.div_s" (i64.const 0x8000000000000000) (i64.const -1)) "integer overflow") ;; vector 0

;; Checked on the host (refusing a module is a compile question): the
;; kernel's engine configuration must refuse it.
(assert_invalid
  (module (func (result i32) (i32.div_s (i32.const 1))))
  "type mismatch")
