;; Float rounding to an integer value. On x86-64 without SSE4.1 Cranelift
;; compiles these to wasmtime libcalls, which the soft-float kernel would
;; call with the wrong ABI (results came back unchanged); the artifacts are
;; compiled with SSE4.1 (traplab_suite::engine::KERNEL_ISA_FLAGS) so they
;; are single round* instructions. Ties round to even for `nearest`.
(module
  (func (export "f32.nearest") (param f32) (result f32) local.get 0 f32.nearest)
  (func (export "f32.floor") (param f32) (result f32) local.get 0 f32.floor)
  (func (export "f32.ceil") (param f32) (result f32) local.get 0 f32.ceil)
  (func (export "f32.trunc") (param f32) (result f32) local.get 0 f32.trunc)
  (func (export "f64.nearest") (param f64) (result f64) local.get 0 f64.nearest)
  (func (export "f64.floor") (param f64) (result f64) local.get 0 f64.floor)
  (func (export "f64.ceil") (param f64) (result f64) local.get 0 f64.ceil)
  (func (export "f64.trunc") (param f64) (result f64) local.get 0 f64.trunc))

(assert_return (invoke "f32.nearest" (f32.const 2.5)) (f32.const 2.0))
(assert_return (invoke "f32.nearest" (f32.const 3.5)) (f32.const 4.0))
(assert_return (invoke "f32.nearest" (f32.const -0.5)) (f32.const -0.0))
(assert_return (invoke "f32.floor" (f32.const -1.5)) (f32.const -2.0))
(assert_return (invoke "f32.ceil" (f32.const 1.25)) (f32.const 2.0))
(assert_return (invoke "f32.trunc" (f32.const -1.75)) (f32.const -1.0))
(assert_return (invoke "f32.nearest" (f32.const nan)) (f32.const nan:canonical))
(assert_return (invoke "f64.nearest" (f64.const 2.5)) (f64.const 2.0))
(assert_return (invoke "f64.nearest" (f64.const -3.5)) (f64.const -4.0))
(assert_return (invoke "f64.floor" (f64.const -1.5)) (f64.const -2.0))
(assert_return (invoke "f64.ceil" (f64.const 0.1)) (f64.const 1.0))
(assert_return (invoke "f64.trunc" (f64.const 1e300)) (f64.const 1e300))
(assert_return (invoke "f64.floor" (f64.const -inf)) (f64.const -inf))
(assert_return (invoke "f64.ceil" (f64.const nan:0x4)) (f64.const nan:arithmetic))
