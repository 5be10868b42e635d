;; contain.host_fault (test-only, `contain` suite): `run` calls the runner's
;; test hook `traplab.fault`, a host function that reads an unmapped
;; address. The fault is in host code, so wasmtime does not claim it: the
;; lab kernel must fail this experiment with the fault and go on.
(module
  (import "traplab" "fault" (func $fault))
  (func (export "run") (param i32) (param i32) (result i32)
    call $fault
    i32.const 0))
