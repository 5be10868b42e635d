//! Sightglass-ABI benchmarks: modules built for bytecodealliance/sightglass
//! run unmodified, on every platform.
//!
//! The ABI: the module exports `_start`, imports `bench.start` and
//! `bench.end` (each called exactly once; the interval between them is the
//! sample) and whatever WASI preview1 functions its toolchain's libc pulls
//! in; those are defined in [`crate::wasi`] (stdout/stderr captured, a
//! read-only preopened directory served from the suite image, every other
//! function ENOSYS).
//!
//! Each sample instantiates a fresh instance (a `_start` runs once per
//! instance) from a pre-linked `InstancePre`, and is checked like
//! sightglass checks it: `_start` returns or calls `proc_exit(0)`, and the
//! captured stdout and stderr equal the expected files the suite image
//! carries (line by line; see `workloads/src/sightglass.rs` for the
//! naming rule). A benchmark that fails a check yields a failed result and
//! no samples: a wrong computation must not produce a number.
//!
//! Phases, as sightglass reports them: compilation happened on the host
//! (`host_compile_ns` metric, from the manifest), loading here
//! (`deserialize_cycles`); per sample, instantiation is the series of
//! experiment `<name>.instantiation` and execution (`bench.start` →
//! `bench.end`) the series of `<name>` itself.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use traplab_wire::metric;

use traplab_suite::image::DataFile;
use traplab_suite::{EngineVariant, Suite, Workload};
use wasmtime::{Caller, Engine, Extern, ExternType, InstancePre, Linker, Module, Store, Val};

use crate::emit::{self, Series};
use crate::pace::{Iteration, Pace};
use crate::wasi::{self, Capture, OUTPUT_LIMIT, ProcExit, Tree, Wasi};
use crate::{Options, Platform};

const WASI: &str = "wasi_snapshot_preview1";
/// Suffix of the experiment that carries the instantiation phase.
pub const INSTANTIATION: &str = ".instantiation";
/// Longest excerpt of a line quoted in an output mismatch.
const QUOTE: usize = 80;
/// Captured stdout logged once per run (the serial line carries records,
/// so the log is an excerpt; the check sees it whole).
const LOG_KEEP: usize = 512;

/// Per-instance state the host functions see.
struct Bench {
    start: Option<u64>,
    end: Option<u64>,
    calls_start: u32,
    calls_end: u32,
    wasi: Wasi,
    /// The platform's clock ([`Platform::stamp`]).
    stamp: fn() -> u64,
}

/// An expected output: the file's name (for messages) and its bytes.
struct Expected<'a> {
    name: String,
    bytes: &'a [u8],
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

/// Run WASI function `name` with the instance's memory and state.
fn wasi_call(caller: &mut Caller<'_, Bench>, name: &str, p: &[Val]) -> wasmtime::Result<i32> {
    let outcome = match caller.get_export("memory") {
        Some(Extern::Memory(m)) => {
            let (mem, state) = m.data_and_store_mut(&mut *caller);
            wasi::call(&mut state.wasi, Some(mem), name, p)
        }
        _ => wasi::call(&mut caller.data_mut().wasi, None, name, p),
    };
    outcome.map_err(wasmtime::Error::new)
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
    let context = format!("{} {config}", workload.name);
    p.set_during(traplab_wire::During::experiment(&workload.name, config));
    let instantiation_name = format!("{}{INSTANTIATION}", workload.name);
    let fail = |why: String| {
        emit::result(p, &workload.name, config, 0, None, None, Some(why));
    };
    let pre = match prepare(p, engine, suite, workload, variant, &context) {
        Ok(pre) => pre,
        Err(why) => return fail(why),
    };
    let (tree, stdout_expected, stderr_expected) = match load_files(suite, workload) {
        Ok(loaded) => loaded,
        Err(why) => return fail(why),
    };
    for (stream, expected) in [("stdout", &stdout_expected), ("stderr", &stderr_expected)] {
        if expected.is_none() {
            p.log(format!(
                "{context}: no expected {stream} file (<stem>.{stream}.expected or default.{stream}.expected); {stream} is not checked"
            ));
        }
    }
    let mut pace = Pace::start(p, &workload.name, config, workload.kind, opts);
    let samples = pace.samples();
    let mut execution = Series::plain(samples as usize);
    let mut instantiation = Series::plain(samples as usize);
    let mut failure = None;
    let mut nosys = BTreeSet::new();
    let mut first_output = None;
    while let Some(iteration) = pace.next() {
        let i = iteration.index();
        let state = Bench {
            start: None,
            end: None,
            calls_start: 0,
            calls_end: 0,
            wasi: Wasi::new(tree.clone(), P::stamp, tsc_hz),
            stamp: P::stamp,
        };
        let mut store = Store::new(engine, state);
        let t0 = P::stamp();
        let instance = pre.instantiate(&mut store);
        let t1 = P::stamp();
        let outcome = instance.and_then(|instance| {
            let start = instance.get_typed_func::<(), ()>(&mut store, &workload.export)?;
            start.call(&mut store, ())
        });
        let s = store.data();
        nosys.extend(s.wasi.nosys.iter().cloned());
        if first_output.is_none() {
            let excerpt = |c: &Capture| {
                let keep = c.bytes.len().min(LOG_KEEP);
                (
                    String::from_utf8_lossy(&c.bytes[..keep]).into_owned(),
                    c.written,
                )
            };
            first_output = Some([excerpt(&s.wasi.stdout), excerpt(&s.wasi.stderr)]);
        }
        let problem = check(
            s,
            outcome,
            stdout_expected.as_ref(),
            stderr_expected.as_ref(),
        );
        if let Some(problem) = problem {
            failure = Some(format!("iteration {i}: {problem}"));
            break;
        }
        if let Iteration::Timed(_) = iteration
            && let (Some(a), Some(b)) = (s.start, s.end)
        {
            execution.total.push(b.saturating_sub(a));
            instantiation.total.push(t1.saturating_sub(t0));
        }
    }
    if let Some(note) = pace.finish(execution.total.len()) {
        p.log(note);
    }
    if let Some(outputs) = first_output {
        let streams = [
            ("stdout", metric::STDOUT_BYTES),
            ("stderr", metric::STDERR_BYTES),
        ];
        for ((stream, name), (text, bytes)) in streams.into_iter().zip(outputs) {
            emit::metric(p, name, bytes, "bytes", &context);
            if !text.is_empty() {
                p.log(format!("{context} {stream}: {}", text.trim_end()));
            }
        }
    }
    if !nosys.is_empty() {
        let list: Vec<String> = nosys.into_iter().collect();
        p.log(format!(
            "{context} called unsupported WASI functions (ENOSYS): {}",
            list.join(", ")
        ));
    }
    // A failed benchmark yields no samples, and no instantiation result.
    let count = if failure.is_none() {
        emit::series(p, &workload.name, config, &execution);
        emit::series(p, &instantiation_name, config, &instantiation);
        let n = execution.total.len();
        emit::result(p, &instantiation_name, config, n, None, None, None);
        n
    } else {
        0
    };
    emit::result(p, &workload.name, config, count, None, None, failure);
}

/// What is wrong with one finished instance, if anything.
fn check(
    s: &Bench,
    outcome: wasmtime::Result<()>,
    stdout_expected: Option<&Expected<'_>>,
    stderr_expected: Option<&Expected<'_>>,
) -> Option<String> {
    let exited_cleanly = match &outcome {
        Ok(()) => true,
        Err(e) => e.downcast_ref::<ProcExit>().is_some_and(|p| p.0 == 0),
    };
    if !exited_cleanly {
        let stderr = excerpt(&s.wasi.stderr.bytes);
        return Some(format!(
            "_start ended with {} (exit code {:?}){}",
            outcome.err().map_or_else(String::new, |e| format!("{e:?}")),
            s.wasi.exit_code,
            if stderr.is_empty() {
                String::new()
            } else {
                format!("; stderr: \"{stderr}\"")
            }
        ));
    }
    if s.calls_start != 1 || s.calls_end != 1 {
        return Some(format!(
            "bench.start called {} and bench.end {} times; the ABI wants once each",
            s.calls_start, s.calls_end
        ));
    }
    for (stream, capture, expected) in [
        ("stdout", &s.wasi.stdout, stdout_expected),
        ("stderr", &s.wasi.stderr, stderr_expected),
    ] {
        // Unchecked output may be any size (it is counted, not kept whole).
        if capture.overflowed() && expected.is_some() {
            return Some(format!(
                "{stream}: the module wrote {} bytes, more than the {OUTPUT_LIMIT} traplab keeps to compare with the expected output",
                capture.written
            ));
        }
        if let Some(expected) = expected
            && let Some(diff) = compare(capture, expected)
        {
            return Some(format!("{stream} differs from {}: {diff}", expected.name));
        }
    }
    None
}

/// Lines as sightglass compares them (`str::lines`): split at `\n`, a
/// trailing `\r` dropped, no empty last line for a final newline.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    if bytes.is_empty() || bytes.ends_with(b"\n") {
        out.pop();
    }
    out
}

/// The first difference between the captured output and the expected
/// file, described briefly; `None` when they agree.
fn compare(capture: &Capture, expected: &Expected<'_>) -> Option<String> {
    let got = lines(&capture.bytes);
    let want = lines(expected.bytes);
    let n = got.len().max(want.len());
    for k in 0..n {
        match (want.get(k), got.get(k)) {
            (Some(w), Some(g)) if w == g => continue,
            (Some(w), Some(g)) => {
                return Some(format!(
                    "line {}: expected \"{}\", got \"{}\"",
                    k + 1,
                    excerpt(w),
                    excerpt(g)
                ));
            }
            (Some(w), None) => {
                return Some(format!(
                    "output ends after {} line(s); line {} expected \"{}\"",
                    got.len(),
                    k + 1,
                    excerpt(w)
                ));
            }
            (None, Some(g)) => {
                return Some(format!(
                    "{} line(s) expected; got more, line {}: \"{}\"",
                    want.len(),
                    k + 1,
                    excerpt(g)
                ));
            }
            (None, None) => unreachable!("k < max of the lengths"),
        }
    }
    None
}

/// `bytes` as escaped text, at most [`QUOTE`] characters.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for (k, c) in text.chars().enumerate() {
        if k == QUOTE {
            out.push('…');
            break;
        }
        out.extend(c.escape_debug());
    }
    out
}

/// The preopened tree and the expected outputs of `workload`, verified
/// against their SHA-256 once per run; the tree serves slices of the
/// image.
#[allow(clippy::type_complexity)]
fn load_files<'a>(
    suite: &Suite<'a>,
    workload: &Workload,
) -> Result<
    (
        Option<Arc<Tree>>,
        Option<Expected<'a>>,
        Option<Expected<'a>>,
    ),
    String,
> {
    let Some(files) = &workload.sightglass else {
        return Ok((None, None, None));
    };
    let bytes = |file: &DataFile| {
        suite
            .data_bytes(&workload.name, file)
            .map_err(|e| e.to_string())
    };
    let tree = if files.preopen {
        let mut inputs = Vec::with_capacity(files.inputs.len());
        for file in &files.inputs {
            inputs.push((file.path.clone(), bytes(file)?));
        }
        // The tree looks files up by binary search.
        if !inputs.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err(format!(
                "the manifest lists the input files of {} out of order",
                workload.name
            ));
        }
        // SAFETY: the slices borrow the suite image, which outlives `run`
        // (`suite: &Suite<'a>`); every store holding the tree is created
        // and dropped inside `run`, so no use outlives the image.
        Some(Arc::new(unsafe { Tree::new(&inputs) }))
    } else {
        None
    };
    let expected = |file: &Option<DataFile>| -> Result<Option<Expected<'a>>, String> {
        file.as_ref()
            .map(|f| {
                Ok(Expected {
                    name: f.path.clone(),
                    bytes: bytes(f)?,
                })
            })
            .transpose()
    };
    let stdout = expected(&files.stdout_expected)?;
    let stderr = expected(&files.stderr_expected)?;
    Ok((tree, stdout, stderr))
}

/// Verify, deserialize and link the module; report the compilation phase.
fn prepare<P: Platform>(
    p: &P,
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
    context: &str,
) -> Result<InstancePre<Bench>, String> {
    let artifact = crate::wasm::find_artifact(workload, P::TARGET, variant.trap_mode)?;
    let bytes = suite
        .artifact_bytes(workload, artifact)
        .map_err(|e| e.to_string())?;
    let t0 = P::stamp();
    let module = crate::wasm::deserialize(engine, bytes)?;
    let t1 = P::stamp();
    emit::metric(p, metric::DESERIALIZE_CYCLES, t1 - t0, "cycles", context);
    // Sightglass's compilation phase: Cranelift ran on the host, and the
    // manifest carries what it cost.
    if let Some(host) = &artifact.host {
        emit::metric(p, metric::HOST_COMPILE_NS, host.compile_ns, "ns", context);
        emit::metric(
            p,
            metric::HOST_CODE_BYTES,
            host.code_bytes,
            "bytes",
            context,
        );
    }
    let linker = link(engine, &module)?;
    linker
        .instantiate_pre(&module)
        .map_err(|e| format!("link: {e:?}"))
}
