;; trap.call_indirect_sig: call_indirect with a type that does not match the
;; function in the slot: slot 0 holds `$add : [i32 i32] -> [i32]` and the call
;; expects `[] -> [i32]`. The slot index is the first argument.
;;
;; The table is an untyped `funcref` table, so wasmtime cannot settle the check
;; statically and compares the caller's and the callee's type indices at run
;; time. Signals-based traps: a mismatch jumps to a `ud2` tagged BadSignature
;; (#UD); it is a compare-and-branch (Cranelift `trapz`), not a fault.
;; Explicit checks: the same comparison branches to a trap libcall.
(module
  (type $binop (func (param i32 i32) (result i32)))
  (type $nullary (func (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $add)
  (func $add (type $binop)
    (i32.add (local.get 0) (local.get 1)))
  (func (export "run") (param $slot i32) (param $unused i32) (result i32)
    (call_indirect (type $nullary) (local.get $slot))))
