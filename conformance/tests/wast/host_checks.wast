;; assert_invalid and assert_malformed, decided on the host with the
;; kernel's engine configuration (tests/host_checks.rs, tests/boot.rs).
;; A command passes unless its first line says `;; expect: fail`: those
;; modules are deliberately valid or well-formed, so the command must fail.

;; Refused by the validator.
(assert_invalid
  (module (func (result i32) (i32.add (i32.const 1))))
  "type mismatch")
(assert_invalid
  (module (func (local.get 0) (drop)))
  "unknown local")
(assert_invalid
  (module (func (call 7)))
  "unknown function")
(assert_invalid
  (module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))
  "immutable global")
(assert_invalid
  (module (memory 2 1))
  "size minimum must not be greater than maximum")
(assert_invalid
  (module (func $f (param i32)) (start $f))
  "start function")
(assert_invalid
  (module (func (export "a")) (func (export "a")))
  "duplicate export name")
(assert_invalid
  (module (func (i32.load (i32.const 0)) (drop)))
  "unknown memory")

;; Refused by the text format before any binary exists (name resolution).
(assert_invalid
  (module (func (call $nowhere)))
  "unknown function")

;; Deliberately valid: the engine accepts it, so the command fails.
(assert_invalid (module (func (result i32) (i32.const 1))) "type mismatch") ;; expect: fail

;; Quoted text that the text format refuses.
(assert_malformed (module quote "(func") "unexpected end")
(assert_malformed (module quote "(func (i32.const 0x1_0000_0000) drop)") "constant out of range")
(assert_malformed (module quote "(func (i32.frobnicate))") "unknown operator")
(assert_malformed (module quote "(func (local $x i32) (local $x i32))") "duplicate local")
(assert_malformed (module quote "(memory 1) (data (i32.const 0) \"\\q\")") "malformed escape")

;; Deliberately well-formed text: the command fails.
(assert_malformed (module quote "(func (export \"f\") (nop))") "unexpected token") ;; expect: fail

;; Binary modules the decoder refuses.
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module binary "\00msa\01\00\00\00") "magic header not detected")
(assert_malformed (module binary "\00asm\01\00\00\00\7f\00") "malformed section id")
(assert_malformed
  (module binary
    "\00asm" "\01\00\00\00"
    "\05\08\01"            ;; memory section (8 bytes), 1 memory
    "\00\82\80\80\80\80\00" ;; min: a LEB128 u32 one byte too long
  )
  "integer representation too long")

;; Deliberately well-formed binary: the command fails.
(assert_malformed (module binary "\00asm\01\00\00\00") "unexpected end") ;; expect: fail
