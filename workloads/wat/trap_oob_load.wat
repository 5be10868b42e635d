;; trap.oob_load: an i32.load far beyond a one-page (64 KiB) linear memory.
;; The address is the first argument, so Cranelift cannot prove it out of
;; bounds at compile time and must emit a real load.
;;
;; Signals-based traps: the 4 GiB reservation lets Cranelift drop the bounds
;; check, so the load itself touches reserved-but-unmapped memory (#PF).
;; Explicit checks: the bounds check fails and wasmtime raises the trap
;; through a libcall, with no CPU exception.
(module
  (memory 1)
  (func (export "run") (param $addr i32) (param $unused i32) (result i32)
    (i32.load (local.get $addr))))
