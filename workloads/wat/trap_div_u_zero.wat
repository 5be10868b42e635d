;; trap.div_u_zero: i32.div_u with a zero divisor (the second argument).
;;
;; Signals-based traps: unsigned `div` can only fail by dividing by zero, so
;; Cranelift emits no check and the `div` itself raises #DE, tagged
;; IntegerDivisionByZero.
(module
  (func (export "run") (param $dividend i32) (param $divisor i32) (result i32)
    (i32.div_u (local.get $dividend) (local.get $divisor))))
