;; trap.div_overflow: i32.div_s of INT_MIN by -1 (both from the arguments),
;; whose quotient 2^31 does not fit in an i32.
;;
;; Signals-based traps: the divisor is not zero, so Cranelift's zero check
;; passes and `idiv` itself raises #DE, tagged IntegerOverflow.
(module
  (func (export "run") (param $dividend i32) (param $divisor i32) (result i32)
    (i32.div_s (local.get $dividend) (local.get $divisor))))
