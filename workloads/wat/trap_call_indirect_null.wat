;; trap.call_indirect_null: call_indirect through a table slot that was never
;; initialised (the table has one slot and no element segment). The slot index
;; is the first argument.
;;
;; Signals-based traps: the slot holds a null funcref pointer, and the
;; signature check's first step loads the callee's type index through it; that
;; load is tagged IndirectCallToNull and faults near address 0 (#PF).
;; Explicit checks: the pointer is tested against null first (libcall trap).
(module
  (type $binop (func (param i32 i32) (result i32)))
  (table 1 funcref)
  (func (export "run") (param $slot i32) (param $unused i32) (result i32)
    (call_indirect (type $binop)
      (i32.const 0) (i32.const 0) (local.get $slot))))
