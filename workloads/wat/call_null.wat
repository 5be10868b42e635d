;; call.null: the null-call baseline. `run` returns its first argument and
;; does nothing else, so a measurement of it is the fixed cost of an embedder
;; call into wasm and back (trampolines, no trap), the floor every trap round
;; trip is compared against.
(module
  (func (export "run") (param $value i32) (param $unused i32) (result i32)
    local.get $value))
