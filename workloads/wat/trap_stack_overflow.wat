;; trap.stack_overflow: unbounded, non-tail recursion. The addition after the
;; call keeps every frame live (no tail call to turn into a loop).
;;
;; Signals-based traps: every non-leaf function's prologue compares the stack
;; pointer with the store's stack limit (`max_wasm_stack` below the entry
;; frame) and jumps to a `ud2` tagged StackOverflow (#UD) once it is crossed;
;; the guard page is never reached. Explicit checks: the same comparison
;; branches to a trap libcall instead.
(module
  (func $recurse (param $depth i32) (result i32)
    (i32.add
      (call $recurse (i32.add (local.get $depth) (i32.const 1)))
      (i32.const 1)))
  (func (export "run") (param $depth i32) (param $unused i32) (result i32)
    (call $recurse (local.get $depth))))
