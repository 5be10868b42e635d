//! Sightglass-ABI benchmarks: modules built for bytecodealliance/sightglass
//! run unmodified, on every platform.
//!
//! The ABI: the module exports `_start`, imports `bench.start` and
//! `bench.end` (each called exactly once; the interval between them is the
//! sample) and whatever WASI preview1 functions its toolchain's libc pulls
//! in. Such modules import far more of WASI than they call, so *every*
//! `wasi_snapshot_preview1` import is defined: a small subset for real
//! (`fd_write` captured and reported as a log record — the serial line
//! carries records only —, `proc_exit`, `clock_time_get` from the TSC,
//! `random_get` from a fixed-seed generator, empty args and environment,
//! `fd_fdstat_get` for stdio, `sched_yield`), `fd_prestat_get` answering
//! EBADF ("no more preopens", which libc start-up expects), and everything
//! else ENOSYS. Every ENOSYS function a benchmark actually calls is reported.
//!
//! Each sample instantiates a fresh instance (a `_start` runs once per
//! instance), from a pre-linked `InstancePre`.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use traplab_suite::{EngineVariant, Suite, Workload};
use wasmtime::{Caller, Engine, Extern, ExternType, InstancePre, Linker, Module, Store, Val};

use crate::emit::{self, Series};
use crate::{Options, Platform};

const WASI: &str = "wasi_snapshot_preview1";
const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOSYS: i32 = 52;
/// Captured benchmark output kept per sample (the rest is counted).
const STDOUT_KEEP: usize = 512;

/// Per-instance state the host functions see.
struct Bench {
    start: Option<u64>,
    end: Option<u64>,
    calls_start: u32,
    calls_end: u32,
    stdout: Vec<u8>,
    stdout_bytes: u64,
    exit_code: Option<i32>,
    nosys: BTreeSet<String>,
    tsc_hz: u64,
    /// The platform's clock ([`Platform::stamp`]).
    stamp: fn() -> u64,
    rng: u64,
}

/// `proc_exit` unwinds the instance with this error.
#[derive(Debug)]
struct ProcExit(i32);

impl core::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "proc_exit({})", self.0)
    }
}

impl core::error::Error for ProcExit {}

fn memory<'a>(caller: &'a mut Caller<'_, Bench>) -> Option<&'a mut [u8]> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Some(m.data_mut(caller)),
        _ => None,
    }
}

fn put_u32(mem: &mut [u8], at: i32, v: u32) -> bool {
    let at = at as u32 as usize;
    mem.get_mut(at..at + 4)
        .map(|s| s.copy_from_slice(&v.to_le_bytes()))
        .is_some()
}

fn get_u32(mem: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(mem.get(at..at + 4)?.try_into().ok()?))
}

/// The WASI function `name`, given its parameters, as an errno result.
fn wasi_call(caller: &mut Caller<'_, Bench>, name: &str, p: &[Val]) -> wasmtime::Result<i32> {
    let arg = |i: usize| p.get(i).and_then(Val::i32).unwrap_or(0);
    Ok(match name {
        "fd_write" => {
            let (fd, iovs, iovs_len, nwritten) = (
                arg(0),
                arg(1) as u32 as usize,
                arg(2) as u32 as usize,
                arg(3),
            );
            let Some(mem) = memory(caller) else {
                return Ok(ERRNO_INVAL);
            };
            if !(1..=2).contains(&fd) {
                return Ok(ERRNO_BADF);
            }
            let mut written = Vec::new();
            for k in 0..iovs_len {
                let (Some(ptr), Some(len)) =
                    (get_u32(mem, iovs + 8 * k), get_u32(mem, iovs + 8 * k + 4))
                else {
                    return Ok(ERRNO_INVAL);
                };
                let Some(bytes) = mem.get(ptr as usize..ptr as usize + len as usize) else {
                    return Ok(ERRNO_INVAL);
                };
                written.extend_from_slice(bytes);
            }
            if !put_u32(mem, nwritten, written.len() as u32) {
                return Ok(ERRNO_INVAL);
            }
            let state = caller.data_mut();
            state.stdout_bytes += written.len() as u64;
            let room = STDOUT_KEEP.saturating_sub(state.stdout.len());
            state
                .stdout
                .extend_from_slice(&written[..written.len().min(room)]);
            ERRNO_SUCCESS
        }
        "proc_exit" => {
            caller.data_mut().exit_code = Some(arg(0));
            return Err(wasmtime::Error::new(ProcExit(arg(0))));
        }
        "clock_time_get" => {
            let ptr = p.get(2).and_then(Val::i32).unwrap_or(0);
            let hz = caller.data().tsc_hz.max(1);
            let ns = ((caller.data().stamp)() as u128 * 1_000_000_000 / hz as u128) as u64;
            let Some(mem) = memory(caller) else {
                return Ok(ERRNO_INVAL);
            };
            let at = ptr as u32 as usize;
            match mem.get_mut(at..at + 8) {
                Some(slot) => {
                    slot.copy_from_slice(&ns.to_le_bytes());
                    ERRNO_SUCCESS
                }
                None => ERRNO_INVAL,
            }
        }
        "random_get" => {
            let (buf, len) = (arg(0) as u32 as usize, arg(1) as u32 as usize);
            let mut x = caller.data().rng;
            let Some(mem) = memory(caller) else {
                return Ok(ERRNO_INVAL);
            };
            let Some(out) = mem.get_mut(buf..buf + len) else {
                return Ok(ERRNO_INVAL);
            };
            for b in out {
                // xorshift64: deterministic, so icount runs stay identical.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            caller.data_mut().rng = x;
            ERRNO_SUCCESS
        }
        "args_sizes_get" | "environ_sizes_get" => {
            let Some(mem) = memory(caller) else {
                return Ok(ERRNO_INVAL);
            };
            if put_u32(mem, arg(0), 0) && put_u32(mem, arg(1), 0) {
                ERRNO_SUCCESS
            } else {
                ERRNO_INVAL
            }
        }
        "args_get" | "environ_get" | "sched_yield" => ERRNO_SUCCESS,
        // "No more preopened directories": libc's start-up scan stops here.
        "fd_prestat_get" => ERRNO_BADF,
        "fd_fdstat_get" => {
            let (fd, buf) = (arg(0), arg(1) as u32 as usize);
            if !(0..=2).contains(&fd) {
                return Ok(ERRNO_BADF);
            }
            let Some(mem) = memory(caller) else {
                return Ok(ERRNO_INVAL);
            };
            // fdstat: filetype u8 (2 = character device), flags u16, rights u64 ×2.
            let Some(out) = mem.get_mut(buf..buf + 24) else {
                return Ok(ERRNO_INVAL);
            };
            out.fill(0);
            out[0] = 2;
            out[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
            ERRNO_SUCCESS
        }
        other => {
            caller.data_mut().nosys.insert(other.to_string());
            ERRNO_NOSYS
        }
    })
}

/// Define every import of `module` that the ABI covers in `linker`.
fn link(engine: &Engine, module: &Module) -> Result<Linker<Bench>, String> {
    let mut linker = Linker::new(engine);
    for import in module.imports() {
        let (m, name) = (import.module().to_string(), import.name().to_string());
        let ExternType::Func(ty) = import.ty() else {
            return Err(format!(
                "import {m}.{name} is not a function; the sightglass ABI imports functions only"
            ));
        };
        let result = match (m.as_str(), name.as_str()) {
            ("bench", "start") => linker.func_wrap("bench", "start", |mut c: Caller<'_, Bench>| {
                let s = c.data_mut();
                s.calls_start += 1;
                s.start = Some((s.stamp)());
            }),
            ("bench", "end") => linker.func_wrap("bench", "end", |mut c: Caller<'_, Bench>| {
                let t = (c.data().stamp)();
                let s = c.data_mut();
                s.calls_end += 1;
                s.end = Some(t);
            }),
            (WASI, _) => {
                let fname = name.clone();
                let returns_errno = ty.results().len() == 1;
                linker.func_new(WASI, &name, ty, move |mut caller, params, results| {
                    let errno = wasi_call(&mut caller, &fname, params)?;
                    if returns_errno {
                        results[0] = Val::I32(errno);
                    }
                    Ok(())
                })
            }
            _ => {
                return Err(format!(
                    "import {m}.{name} is outside the sightglass ABI (bench.*, {WASI}.*)"
                ));
            }
        };
        result.map_err(|e| format!("defining {m}.{name}: {e:?}"))?;
    }
    Ok(linker)
}

/// Run one sightglass workload under `engine`.
pub fn run<P: Platform>(
    p: &P,
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
    opts: &Options,
) {
    let tsc_hz = p.tsc_hz();
    let config = variant.label();
    p.set_during(&format!("{} {config}", workload.name));
    let pre = match prepare::<P>(engine, suite, workload, variant) {
        Ok(pre) => pre,
        Err(why) => return emit::result(p, &workload.name, config, 0, None, None, Some(why)),
    };
    let (warmup, samples) = crate::wasm::iterations(workload.kind, opts);
    let mut series = Series::plain(samples as usize);
    let mut failure = None;
    let mut nosys = BTreeSet::new();
    let mut first_output = None;
    for i in 0..warmup + samples {
        let state = Bench {
            start: None,
            end: None,
            calls_start: 0,
            calls_end: 0,
            stdout: Vec::new(),
            stdout_bytes: 0,
            exit_code: None,
            nosys: BTreeSet::new(),
            tsc_hz,
            stamp: P::stamp,
            rng: 0x9e37_79b9_7f4a_7c15,
        };
        let mut store = Store::new(engine, state);
        let outcome = pre.instantiate(&mut store).and_then(|instance| {
            let start = instance.get_typed_func::<(), ()>(&mut store, &workload.export)?;
            start.call(&mut store, ())
        });
        let s = store.data();
        let exited_cleanly = match &outcome {
            Ok(()) => true,
            Err(e) => e.downcast_ref::<ProcExit>().is_some_and(|p| p.0 == 0),
        };
        nosys.extend(s.nosys.iter().cloned());
        if first_output.is_none() {
            first_output = Some((
                String::from_utf8_lossy(&s.stdout).into_owned(),
                s.stdout_bytes,
            ));
        }
        let problem = if !exited_cleanly {
            Some(format!(
                "_start ended with {:?} (exit code {:?})",
                outcome.err().map(|e| format!("{e:?}")),
                s.exit_code
            ))
        } else if s.calls_start != 1 || s.calls_end != 1 {
            Some(format!(
                "bench.start called {} and bench.end {} times; the ABI wants once each",
                s.calls_start, s.calls_end
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            failure = Some(format!("iteration {i}: {problem}"));
            break;
        }
        if i >= warmup
            && let (Some(a), Some(b)) = (s.start, s.end)
        {
            series.total.push(b.saturating_sub(a));
        }
    }
    let context = format!("{} {config}", workload.name);
    if let Some((text, bytes)) = first_output {
        emit::metric(p, "stdout_bytes", bytes, "bytes", &context);
        if !text.is_empty() {
            p.log(format!("{context} stdout: {}", text.trim_end()));
        }
    }
    if !nosys.is_empty() {
        let list: Vec<String> = nosys.into_iter().collect();
        p.log(format!(
            "{context} called unsupported WASI functions (ENOSYS): {}",
            list.join(", ")
        ));
    }
    emit::series(p, &workload.name, config, &series);
    emit::result(
        p,
        &workload.name,
        config,
        series.total.len(),
        None,
        None,
        failure,
    );
}

fn prepare<P: Platform>(
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
) -> Result<InstancePre<Bench>, String> {
    let artifact = crate::wasm::find_artifact(workload, P::TARGET, variant.trap_mode)?;
    let bytes = suite
        .artifact_bytes(workload, artifact)
        .map_err(|e| e.to_string())?;
    let module = crate::wasm::deserialize(engine, bytes)?;
    let linker = link(engine, &module)?;
    linker
        .instantiate_pre(&module)
        .map_err(|e| format!("link: {e:?}"))
}
