;; trap.div_s_zero: i32.div_s with a zero divisor (the second argument, so it
;; cannot be constant-folded).
;;
;; Signals-based traps: `idiv` raises #DE for both of its failure cases (zero
;; divisor, INT_MIN / -1), and the CPU cannot tell wasmtime which one
;; happened. Cranelift therefore tests the divisor for zero itself and jumps
;; to a `ud2` tagged IntegerDivisionByZero (#UD), leaving `idiv` to raise #DE
;; only for the overflow case (see trap.div_overflow).
(module
  (func (export "run") (param $dividend i32) (param $divisor i32) (result i32)
    (i32.div_s (local.get $dividend) (local.get $divisor))))
