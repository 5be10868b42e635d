//! In-kernel JIT: Cranelift (`cranelift-codegen`, no_std) compiling
//! generated CLIF functions in ring 0, mapping the code executable and
//! running it.
//!
//! Two kinds of experiment:
//! - `jit.compile.nN` / `jit.exec.nN`: a straight-line function of N CLIF
//!   instructions (N = 10 … 10,000) mixing add, xor, multiply and rotate over
//!   both arguments so no algebra folds it away. Compile latency is timed per
//!   compilation (the `cycles_per_clif_inst` metric divides the median by N);
//!   execution is timed per call and every result is checked against the
//!   same operations evaluated in Rust.
//! - `jit.trap.pf|ud|de`: tiny fault sites (a load from the unmapped null
//!   page, a `trap` instruction, an unsigned divide by zero) called through
//!   `arch::gate`, timed from call to return through the exception path
//!   (IDT stub → dispatch → recovery (JIT region) → landing pad → `iretq`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::str::FromStr;
use traplab_wire::metric;

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{
    AbiParam, Function, InstBuilder, MemFlagsData, Signature, TrapCode, UserFuncName, Value, types,
};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use target_lexicon::Triple;
use traplab_wire::TrapSignature;

use super::{Series, emit_metric, emit_result, emit_series};
use crate::arch::paging::Protection;
use crate::arch::{cpu, gate};
use crate::{exceptions, fault, mm, recovery};
use traplab_runner_core::{Options, profile};

const CONFIG: &str = "cranelift";
/// Sizes of the generated functions, in CLIF instructions.
const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
/// Compilations per size: enough for a stable median, bounded so the
/// 10,000-instruction function does not dominate a TCG run.
fn compile_repetitions(size: usize, samples: u32) -> u32 {
    ((20_000 / size) as u32).clamp(3, samples.max(3))
}
/// Arguments every generated function is called with.
const ARGS: (i64, i64) = (0x1234_5678_9abc_def1, 0x0fed_cba9_8765_4321);
/// An address in the unmapped null page (`mm::protect_kernel`).
const NULL_PAGE_ADDRESS: i64 = 0x10;

fn isa() -> Result<OwnedTargetIsa, String> {
    let mut flags = settings::builder();
    for (name, value) in [("opt_level", "speed"), ("preserve_frame_pointers", "true")] {
        flags
            .set(name, value)
            .map_err(|e| format!("cranelift flag {name}: {e}"))?;
    }
    // Baseline x86-64 ISA flags: the generated code uses integer ops only.
    let triple = Triple::from_str("x86_64-unknown-none").map_err(|e| format!("triple: {e}"))?;
    cranelift_codegen::isa::lookup(triple)
        .map_err(|e| format!("isa lookup: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| format!("isa: {e}"))
}

fn signature() -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I64));
    sig
}

/// The operation of step `i` of a generated chain, applied in Rust.
fn step(i: usize, x: i64, y: i64) -> (i64, i64) {
    match i % 4 {
        0 => (x.wrapping_add(y), y),
        1 => (x, y ^ x),
        2 => (x.wrapping_mul(y | 1), y),
        _ => (x, y.rotate_left((i % 63 + 1) as u32)),
    }
}

/// Expected result of the `n`-instruction chain for `ARGS`.
fn reference(n: usize) -> i64 {
    let (mut x, mut y) = ARGS;
    for i in 0..n {
        (x, y) = step(i, x, y);
    }
    x ^ y
}

/// Open the single entry block and return the two parameters.
fn entry_block(b: &mut FunctionBuilder<'_>) -> (Value, Value) {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    (b.block_params(entry)[0], b.block_params(entry)[1])
}

/// Build `f(x, y)`: `n` chained operations (as in [`step`]), returning x ^ y.
/// The `bor` feeding the multiply and the final `bxor` are bookkeeping and
/// not counted in `n`.
fn chain_function(isa: &OwnedTargetIsa, n: usize) -> Function {
    let mut func = Function::with_name_signature(UserFuncName::user(0, n as u32), signature());
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let (mut x, mut y) = entry_block(&mut b);
    for i in 0..n {
        match i % 4 {
            0 => x = b.ins().iadd(x, y),
            1 => y = b.ins().bxor(y, x),
            2 => {
                let odd = b.ins().bor_imm_u(y, 1);
                x = b.ins().imul(x, odd);
            }
            _ => y = b.ins().rotl_imm_u(y, (i % 63 + 1) as i64),
        }
    }
    let r = b.ins().bxor(x, y);
    b.ins().return_(&[r]);
    b.finalize(isa.frontend_config());
    func
}

/// A function that faults: `which` is `pf`, `ud` or `de`.
fn fault_function(isa: &OwnedTargetIsa, which: &str) -> Function {
    let mut func = Function::with_name_signature(UserFuncName::user(1, 0), signature());
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let (a, c) = entry_block(&mut b);
    match which {
        // load [a]: called with the null-page address.
        "pf" => {
            let v = b.ins().load(types::I64, MemFlagsData::new(), a, 0);
            b.ins().return_(&[v]);
        }
        // An unconditional trap instruction (ud2).
        "ud" => {
            b.ins().trap(TrapCode::unwrap_user(1));
        }
        // udiv a, c: called with c = 0; x86 `div` raises #DE.
        _ => {
            let v = b.ins().udiv(a, c);
            b.ins().return_(&[v]);
        }
    }
    b.finalize(isa.frontend_config());
    func
}

/// Machine code mapped read+execute in the wasmtime-style mapping region;
/// unmapped on drop.
struct Executable {
    base: u64,
    len: u64,
}

impl Executable {
    fn map(code: &[u8]) -> Result<Executable, String> {
        let len = code.len() as u64;
        let base = mm::reserve(len).map_err(|e| format!("reserve: {e:?}"))?;
        mm::protect(
            base,
            len,
            Some(Protection {
                write: true,
                execute: false,
            }),
        )
        .map_err(|e| format!("map: {e:?}"))?;
        // SAFETY: [base, base+len) was just mapped writable and is ours.
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), base as *mut u8, code.len()) };
        mm::protect(
            base,
            len,
            Some(Protection {
                write: false,
                execute: true,
            }),
        )
        .map_err(|e| format!("protect: {e:?}"))?;
        Ok(Executable { base, len })
    }

    /// Call with recovery: faults inside the code land back here as `Err`.
    fn call(&self, a: i64, b: i64) -> Result<i64, ()> {
        recovery::set_jit_region(Some((
            self.base,
            self.base + self.len,
            gate::landing_address(),
        )));
        // SAFETY: the code was compiled by Cranelift for System V with
        // signature (i64, i64) -> i64, and its faults are routed to the
        // gate's landing pad by the JIT region set above.
        let result = unsafe { gate::call(self.base, a, b) };
        recovery::set_jit_region(None);
        result
    }
}

impl Drop for Executable {
    fn drop(&mut self) {
        let _ = mm::protect(self.base, self.len, None);
    }
}

/// Compile `func`; returns the machine code and the compile time in cycles.
fn compile(isa: &OwnedTargetIsa, func: Function) -> Result<(Vec<u8>, u64), String> {
    let mut ctx = Context::for_function(func);
    let mut ctrl = ControlPlane::default();
    let t0 = cpu::stamp();
    let code = ctx
        .compile(&**isa, &mut ctrl)
        .map_err(|e| format!("compile: {:?}", e.inner))?;
    let t1 = cpu::stamp();
    Ok((code.code_buffer().to_vec(), t1 - t0))
}

fn selected(opts: &Options, name: &str) -> bool {
    opts.only.as_deref().is_none_or(|p| name.starts_with(p))
}

/// Experiment names this module runs (for the run plan).
pub fn experiment_names() -> Vec<String> {
    let mut names = Vec::new();
    for n in SIZES {
        names.push(format!("jit.compile.n{n}"));
        names.push(format!("jit.exec.n{n}"));
    }
    for which in ["pf", "ud", "de"] {
        names.push(format!("jit.trap.{which}"));
    }
    names
}

pub fn run(opts: &Options) {
    if !experiment_names().iter().any(|n| selected(opts, n)) {
        return;
    }
    fault::set_during(traplab_wire::During::phase("jit setup"));
    let isa = match isa() {
        Ok(isa) => isa,
        Err(why) => return emit_result("jit.setup", CONFIG, 0, None, None, Some(why)),
    };
    for n in SIZES {
        chain(&isa, n, opts);
    }
    for (which, vector) in [("pf", 0x0E), ("ud", 0x06), ("de", 0x00)] {
        fault_site(&isa, which, vector, opts);
    }
}

fn chain(isa: &OwnedTargetIsa, n: usize, opts: &Options) {
    let compile_name = format!("jit.compile.n{n}");
    let exec_name = format!("jit.exec.n{n}");
    fault::set_during(traplab_wire::During::experiment(&compile_name, CONFIG));
    let reps = compile_repetitions(n, opts.samples);
    let mut compile_series = Series::plain(reps as usize);
    let mut code = Vec::new();
    for _ in 0..reps {
        match compile(isa, chain_function(isa, n)) {
            Ok((bytes, cycles)) => {
                compile_series.total.push(cycles);
                code = bytes;
            }
            Err(why) => return emit_result(&compile_name, CONFIG, 0, None, None, Some(why)),
        }
    }
    let mut sorted = compile_series.total.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    emit_series(&compile_name, CONFIG, &compile_series);
    emit_metric(
        "cycles_per_clif_inst",
        median / n as u64,
        "cycles",
        &compile_name,
    );
    emit_metric(
        metric::CODE_BYTES,
        code.len() as u64,
        "bytes",
        &compile_name,
    );
    emit_result(
        &compile_name,
        CONFIG,
        compile_series.total.len(),
        None,
        None,
        None,
    );

    if !selected(opts, &exec_name) {
        return;
    }
    fault::set_during(traplab_wire::During::experiment(&exec_name, CONFIG));
    let exe = match Executable::map(&code) {
        Ok(e) => e,
        Err(why) => return emit_result(&exec_name, CONFIG, 0, None, None, Some(why)),
    };
    let expected = reference(n);
    let mut series = Series::plain(opts.samples as usize);
    let mut failure = None;
    cpu::disable_interrupts();
    for i in 0..opts.warmup + opts.samples {
        let t0 = cpu::stamp();
        let result = exe.call(ARGS.0, ARGS.1);
        let t1 = cpu::stamp();
        if result != Ok(expected) {
            failure = Some(format!(
                "iteration {i}: returned {result:?}, expected Ok({expected})"
            ));
            break;
        }
        if i >= opts.warmup {
            series.total.push(t1 - t0);
        }
    }
    emit_series(&exec_name, CONFIG, &series);
    emit_result(&exec_name, CONFIG, series.total.len(), None, None, failure);
}

fn fault_site(isa: &OwnedTargetIsa, which: &str, vector: u8, opts: &Options) {
    let name = format!("jit.trap.{which}");
    if !selected(opts, &name) {
        return;
    }
    fault::set_during(traplab_wire::During::experiment(&name, CONFIG));
    let expected = TrapSignature {
        trap: None,
        vector: Some(vector),
        signal: None,
        si_code: None,
    };
    let exe = match compile(isa, fault_function(isa, which))
        .and_then(|(code, _)| Executable::map(&code))
    {
        Ok(e) => e,
        Err(why) => return emit_result(&name, CONFIG, 0, Some(expected), None, Some(why)),
    };
    let args = if which == "pf" {
        (NULL_PAGE_ADDRESS, 0)
    } else {
        (7, 0)
    };
    let mut series = Series::plain(opts.samples as usize);
    let mut failure = None;
    let mut observed = None;
    // A profiled fault (runner-core's profile.rs) is one more iteration of
    // this loop, so the stepped instructions are the measured ones; it is
    // checked like the others but not recorded.
    let profiled = opts.profiles(&name, CONFIG);
    let label = format!("{name} {CONFIG}");
    cpu::disable_interrupts();
    for i in 0..opts.warmup + opts.samples + u32::from(profiled) {
        let profiling = profiled && i == opts.warmup + opts.samples;
        if profiling {
            profile::begin(&label);
        }
        let (before, _) = exceptions::counters();
        let t0 = cpu::stamp();
        let result = exe.call(args.0, args.1);
        let t1 = cpu::stamp();
        let (after, last) = exceptions::counters();
        if profiling {
            profile::end(&[t0, t1]);
        }
        let seen = TrapSignature {
            trap: None,
            vector: if after == before + 1 { last } else { None },
            signal: None,
            si_code: None,
        };
        if result.is_ok() || seen != expected {
            failure = Some(format!(
                "iteration {i}: returned {result:?} after {} exception(s), last vector {last:?}",
                after - before
            ));
            observed = Some(seen);
            break;
        }
        observed = Some(seen);
        if i >= opts.warmup && !profiling {
            series.total.push(t1 - t0);
        }
    }
    emit_series(&name, CONFIG, &series);
    emit_result(
        &name,
        CONFIG,
        series.total.len(),
        Some(expected),
        observed,
        failure,
    );
}
