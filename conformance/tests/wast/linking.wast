;; Linking, run in the kernel: one store per script and trap mode, the
;; spectest module, register, named instances, assert_unlinkable,
;; assert_trap on a module, assert_exhaustion (tests/boot.rs).
;; A command passes unless its first line says `;; expect: fail`.

(module $lib
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (global (export "answer") i32 (i32.const 42))
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (memory (export "mem") 1)
  (func (export "bump") (global.set $counter (i32.add (global.get $counter) (i32.const 1))))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
(register "lib" $lib)

(module $user
  (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (import "lib" "counter" (global $counter (mut i32)))
  (import "lib" "mem" (memory 1))
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "print_i32" (func $print (param i32)))
  (func (export "add3") (param i32) (result i32) (call $add (local.get 0) (i32.const 3)))
  (func (export "counter") (result i32) (global.get $counter))
  (func (export "spectest_global") (result i32) (global.get $g))
  (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "print") (call $print (i32.const 7))))
(assert_return (invoke "add3" (i32.const 4)) (i32.const 7))
(assert_return (invoke "spectest_global") (i32.const 666))
(invoke "print")
;; The mutable global and the memory are the exporter's own.
(invoke $lib "bump")
(assert_return (invoke "counter") (i32.const 1))
(assert_return (get $lib "counter") (i32.const 1))
(assert_return (get $lib "answer") (i32.const 42))
(invoke "store" (i32.const 8) (i32.const 1234))
(assert_return (invoke $lib "load" (i32.const 8)) (i32.const 1234))

;; The rest of spectest, values exact.
(module
  (import "spectest" "global_i64" (global i64))
  (import "spectest" "global_f32" (global f32))
  (import "spectest" "global_f64" (global f64))
  (import "spectest" "table" (table 10 20 funcref))
  (import "spectest" "memory" (memory 1 2))
  (import "spectest" "print" (func))
  (import "spectest" "print_i64" (func (param i64)))
  (import "spectest" "print_f32" (func (param f32)))
  (import "spectest" "print_f64" (func (param f64)))
  (import "spectest" "print_i32_f32" (func (param i32 f32)))
  (import "spectest" "print_f64_f64" (func (param f64 f64)))
  (func (export "i64") (result i64) (global.get 0))
  (func (export "f32") (result f32) (global.get 1))
  (func (export "f64") (result f64) (global.get 2))
  (func (export "table_size") (result i32) (table.size 0))
  (func (export "memory_size") (result i32) (memory.size))
  (func (export "prints")
    (call 0) (call 1 (i64.const 1)) (call 2 (f32.const 1)) (call 3 (f64.const 1))
    (call 4 (i32.const 1) (f32.const 1)) (call 5 (f64.const 1) (f64.const 1))))
(assert_return (invoke "i64") (i64.const 666))
(assert_return (invoke "f32") (f32.const 666.6))
(assert_return (invoke "f64") (f64.const 666.6))
(assert_return (invoke "table_size") (i32.const 10))
(assert_return (invoke "memory_size") (i32.const 1))
(invoke "prints")

;; A later registration under the same name shadows the earlier one.
(module $lib2 (func (export "add") (param i32 i32) (result i32) (i32.sub (local.get 0) (local.get 1))))
(register "lib" $lib2)
(module (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (func (export "run") (result i32) (call $add (i32.const 10) (i32.const 3))))
(assert_return (invoke "run") (i32.const 7))
;; $user still calls what it linked.
(assert_return (invoke $user "add3" (i32.const 4)) (i32.const 7))

;; Link errors.
(assert_unlinkable (module (import "lib" "missing" (func))) "unknown import")
(assert_unlinkable (module (import "lib" "add" (func (param i64)))) "incompatible import type")
(assert_unlinkable (module (import "nowhere" "f" (func))) "unknown import")
(assert_unlinkable (module (import "spectest" "memory" (memory 3))) "incompatible import type")
(assert_unlinkable (module (import "spectest" "unknown" (global i32))) "unknown import")
;; Deliberately linkable: the command fails.
(assert_unlinkable (module (import "lib" "add" (func (param i32 i32) (result i32)))) "unknown import") ;; expect: fail
;; Links, then traps: not a link error, so the command fails.
(assert_unlinkable (module (func $s unreachable) (start $s)) "unknown import") ;; expect: fail

;; Modules that trap while instantiating. The data segments before the
;; failing one were written (bulk-memory semantics): the exporter's memory
;; shows it.
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_trap
  (module (import "lib" "mem" (memory 1))
    (data (i32.const 16) "\2a")
    (data (i32.const 65536) "x"))
  "out of bounds memory access")
(assert_return (invoke $lib "load" (i32.const 16)) (i32.const 42))
;; Deliberately instantiable: the command fails.
(assert_trap (module (func)) "unreachable") ;; expect: fail

;; Stack exhaustion is a trap; the store stays usable after it.
(module
  (func $self (export "self") (call $self))
  (func $ping (export "ping") (call $pong))
  (func $pong (call $ping)))
(assert_exhaustion (invoke "self") "call stack exhausted") ;; vector 6
(assert_exhaustion (invoke "ping") "call stack exhausted") ;; vector 6
(assert_return (invoke $user "add3" (i32.const 1)) (i32.const 4))
