;; trap.unreachable: executes the wasm `unreachable` instruction, which
;; Cranelift lowers to `ud2` (#UD) with signals-based traps and to a trap
;; libcall with explicit checks.
(module
  (func (export "run") (param $unused_a i32) (param $unused_b i32) (result i32)
    unreachable))
