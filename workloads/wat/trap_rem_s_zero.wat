;; trap.rem_s_zero: i32.rem_s with a zero divisor (the second argument).
;;
;; Signals-based traps: wasm defines INT_MIN rem -1 as 0 (no trap), so
;; Cranelift only special-cases a divisor of -1 and sends every other divisor,
;; zero included, to `idiv`, which raises #DE, tagged IntegerDivisionByZero.
(module
  (func (export "run") (param $dividend i32) (param $divisor i32) (result i32)
    (i32.rem_s (local.get $dividend) (local.get $divisor))))
