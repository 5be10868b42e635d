;; contain.host_panic (test-only, `contain` suite): `run` calls the runner's
;; test hook `traplab.panic`, a host function that panics, as a bug in
;; wasmtime or a host function would. The call never returns: the runner
;; must fail this experiment with the panic and go on with the next.
(module
  (import "traplab" "panic" (func $panic))
  (func (export "run") (param i32) (param i32) (result i32)
    call $panic
    i32.const 0))
