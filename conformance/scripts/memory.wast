;; Linear-memory bounds at the exact edges: the last valid address works,
;; one past it traps; with static offsets; an access straddling the end;
;; after memory.grow.
;;
;; A `;; vector N` note on an assert_trap line is the x86 vector that raises
;; the trap under signals-based traps: with a 4 GiB reservation plus guard,
;; Cranelift emits no bounds check and the access faults on an unmapped
;; page (#PF 14). Explicit checks raise no exception.

(module
  (memory 1 3)
  (data (i32.const 0) "\01\02\03\04")
  (data (i32.const 65532) "\aa\bb\cc\dd")
  (func (export "load8_u") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "load32_offset4") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
  (func (export "load8_offset65535") (param i32) (result i32) (i32.load8_u offset=65535 (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "store32") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)

;; One page: bytes 0 ..= 65535.
(assert_return (invoke "load8_u" (i32.const 0)) (i32.const 0x01))
(assert_return (invoke "load8_u" (i32.const 65535)) (i32.const 0xdd))
(assert_trap (invoke "load8_u" (i32.const 65536)) "out of bounds memory access") ;; vector 14
(assert_return (invoke "load32" (i32.const 65532)) (i32.const 0xddccbbaa))
(assert_trap (invoke "load32" (i32.const 65533)) "out of bounds memory access") ;; vector 14
(assert_return (invoke "load64" (i32.const 65528)) (i64.const 0xddccbbaa00000000))
(assert_trap (invoke "load64" (i32.const 65529)) "out of bounds memory access") ;; vector 14
(assert_trap (invoke "load32" (i32.const -1)) "out of bounds memory access") ;; vector 14
(assert_trap (invoke "load32" (i32.const 0x80000000)) "out of bounds memory access") ;; vector 14

;; Static offsets: the effective address is index + offset, never wrapped.
(assert_return (invoke "load32_offset4" (i32.const 65528)) (i32.const 0xddccbbaa))
(assert_trap (invoke "load32_offset4" (i32.const 65529)) "out of bounds memory access") ;; vector 14
(assert_trap (invoke "load32_offset4" (i32.const -4)) "out of bounds memory access") ;; vector 14
(assert_return (invoke "load8_offset65535" (i32.const 0)) (i32.const 0xdd))
(assert_trap (invoke "load8_offset65535" (i32.const 1)) "out of bounds memory access") ;; vector 14

;; Stores: the last byte is writable, one past traps, and a store that
;; straddles the end traps without writing its in-bounds bytes.
(invoke "store8" (i32.const 65535) (i32.const 0xee))
(assert_return (invoke "load8_u" (i32.const 65535)) (i32.const 0xee))
(assert_trap (invoke "store8" (i32.const 65536) (i32.const 0)) "out of bounds memory access") ;; vector 14
(assert_trap (invoke "store32" (i32.const 65534) (i32.const 0)) "out of bounds memory access") ;; vector 14
(assert_return (invoke "load8_u" (i32.const 65534)) (i32.const 0xcc))
(assert_return (invoke "load8_u" (i32.const 65535)) (i32.const 0xee))

;; Growing moves the edge: the old first invalid address becomes a valid,
;; zeroed byte; the new edge traps; growing past the maximum fails with -1.
(assert_return (invoke "size") (i32.const 1))
(assert_return (invoke "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke "size") (i32.const 2))
(assert_return (invoke "load8_u" (i32.const 65536)) (i32.const 0))
(assert_return (invoke "load32" (i32.const 65533)) (i32.const 0x00eeccbb))
(assert_return (invoke "load8_u" (i32.const 131071)) (i32.const 0))
(assert_trap (invoke "load8_u" (i32.const 131072)) "out of bounds memory access") ;; vector 14
(invoke "store32" (i32.const 131068) (i32.const 0x01020304))
(assert_return (invoke "load32" (i32.const 131068)) (i32.const 0x01020304))
(assert_trap (invoke "load32_offset4" (i32.const 131068)) "out of bounds memory access") ;; vector 14
(assert_return (invoke "grow" (i32.const 2)) (i32.const -1))
(assert_return (invoke "size") (i32.const 2))
(assert_return (invoke "grow" (i32.const 1)) (i32.const 2))
(assert_return (invoke "load8_u" (i32.const 196607)) (i32.const 0))
(assert_trap (invoke "load8_u" (i32.const 196608)) "out of bounds memory access") ;; vector 14

;; A memory of zero pages: every access traps, even at address 0.
(module
  (memory 0)
  (func (export "load8_u") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)
(assert_trap (invoke "load8_u" (i32.const 0)) "out of bounds memory access") ;; vector 14
(assert_return (invoke "grow" (i32.const 1)) (i32.const 0))
(assert_return (invoke "load8_u" (i32.const 0)) (i32.const 0))
(assert_return (invoke "load8_u" (i32.const 65535)) (i32.const 0))
(assert_trap (invoke "load8_u" (i32.const 65536)) "out of bounds memory access") ;; vector 14
