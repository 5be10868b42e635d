;; trap.oob_store: an i32.store far beyond a one-page (64 KiB) linear memory;
;; the store twin of trap.oob_load (a write fault sets a different #PF error
;; code bit, and a store cannot be dropped as dead code). The address is the
;; first argument, the stored value the second.
;;
;; Signals-based traps: no bounds check, the store hits an unmapped page
;; inside the 4 GiB reservation (#PF). Explicit checks: bounds check, libcall.
(module
  (memory 1)
  (func (export "run") (param $addr i32) (param $value i32) (result i32)
    (i32.store (local.get $addr) (local.get $value))
    (i32.const 0)))
