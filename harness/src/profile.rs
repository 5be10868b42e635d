//! The instruction profiler: every instruction of one call, stepped from
//! outside the guest, symbolized with the kernel's own debug info, and
//! folded into call stacks, per-function counts and per-stage counts.
//!
//! The kernel marks a profiled call (`profile=PREFIX[:CONFIG]`, see
//! `runner-core/src/profile.rs`); QEMU runs with its gdb stub and
//! Debian's `gdb` runs `harness/gdb/step.py`, which breaks on the begin
//! mark and `stepi`s until the end mark, writing `rip rsp` per
//! instruction. Stepping is exact (QEMU steps with interrupts masked and a
//! faulting instruction's next step is its IDT stub), and under icount it
//! can be checked: the trace is split at its `rdtsc` instructions, and each
//! stage's count must equal the difference of the stamps the kernel took
//! in the same call ([`Profile::stages`]).
//!
//! Call stacks are rebuilt from the stack pointer rather than decoded
//! calls and returns, because a trap leaves wasm neither by `ret` nor by
//! `iretq` but by wasmtime resuming at its entry trampoline with a reset
//! stack: a frame is entered when code of another function runs at a
//! lower stack pointer than the frame's entry (a call, an exception entry),
//! replaced when it runs at the same stack pointer (a tail jump), and left
//! when the stack pointer rises above its entry (a return, an `iretq`, an
//! unwind). Inlined functions come from the DWARF line tables
//! (`addr2line`), so a frame shows the functions inlined into it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};
use traplab_wire::Stamp;
use traplab_wire::profile::{FoldedStack, FunctionCount, Profile, StageCount};

use crate::workspace_root;

/// Instructions stepped per profiled call at most, unless told otherwise:
/// about five minutes of stepping (gdb takes ~1.5 ms per step).
pub const DEFAULT_BOUND: u64 = 200_000;

/// The name of code outside the kernel image: the workload's compiled
/// wasm and wasmtime's trampolines, loaded from the suite image at run
/// time.
pub const JIT_CODE: &str = "[jit code]";

/// A free TCP port on the loopback interface for QEMU's gdb stub.
pub fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port for gdb")?;
    Ok(listener.local_addr()?.port())
}

/// Whether Debian's `gdb` is installed.
pub fn gdb_available() -> bool {
    Command::new("gdb")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Start the stepper against QEMU's gdb stub at `port` (QEMU started with
/// `-S`, waiting for it). It writes `trace` and its own output to
/// `log`, and exits when QEMU does.
pub fn start_stepper(
    image: &KernelImage,
    kernel: &Path,
    port: u16,
    trace: &Path,
    log: &Path,
    bound: u64,
) -> Result<Child> {
    let script = workspace_root().join("harness/gdb/step.py");
    let sites = trace.with_extension("tsc-sites");
    let list: Vec<String> = image.tsc_sites().iter().map(|a| format!("{a:x}")).collect();
    std::fs::write(&sites, list.join("\n"))
        .with_context(|| format!("writing {}", sites.display()))?;
    let out = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = Command::new("gdb");
    cmd.args(["-batch", "-nx", "-q"])
        .arg(kernel)
        .arg("-x")
        .arg(&script)
        .env("TRAPLAB_GDB_PORT", port.to_string())
        .env("TRAPLAB_TRACE", trace)
        .env("TRAPLAB_BOUND", bound.to_string())
        .env("TRAPLAB_TSC_SITES", &sites)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    crate::child::leash(&mut cmd);
    cmd.spawn()
        .context("starting gdb (install it with: apt-get install -y gdb)")
}

/// One profiled call as the stepper recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct TracedCall {
    /// `experiment config`, from the begin mark.
    pub label: String,
    /// Every executed instruction, in order.
    pub steps: Vec<Step>,
    /// The call's stamps from the end mark; `None` when truncated.
    pub stamps: Option<Vec<u64>>,
    pub truncated: bool,
}

impl TracedCall {
    /// `(experiment, config)`.
    pub fn names(&self) -> (&str, &str) {
        self.label.split_once(' ').unwrap_or((&self.label, ""))
    }
}

/// One executed instruction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub rip: u64,
    /// The stack pointer before it ran.
    pub rsp: u64,
    /// What it read, for an instruction that reads the TSC.
    pub tsc: Option<u64>,
}

/// Read a stepper trace. `complete` says whether the stepper saw the guest
/// finish (`done`); a call cut off by the guest's end is left out.
pub fn read_trace(path: &Path) -> Result<(Vec<TracedCall>, bool)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut calls = Vec::new();
    let mut current: Option<TracedCall> = None;
    let mut complete = false;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let bad = || format!("{}:{}: unexpected line {line:?}", path.display(), n + 1);
        if let Some(label) = line.strip_prefix("begin ") {
            current = Some(TracedCall {
                label: label.to_string(),
                steps: Vec::new(),
                stamps: None,
                truncated: false,
            });
        } else if let Some(value) = line.strip_prefix("tsc ") {
            let step = current
                .as_mut()
                .and_then(|c| c.steps.last_mut())
                .with_context(bad)?;
            step.tsc = Some(value.parse().ok().with_context(bad)?);
        } else if line == "done" {
            complete = true;
        } else if line == "truncated" || line.starts_with("end") {
            let mut call = current.take().with_context(bad)?;
            if line == "truncated" {
                call.truncated = true;
            } else {
                let stamps: Result<Vec<u64>, _> = line["end".len()..]
                    .split_whitespace()
                    .map(str::parse)
                    .collect();
                call.stamps = Some(stamps.ok().with_context(bad)?);
            }
            calls.push(call);
        } else {
            let call = current.as_mut().with_context(bad)?;
            let (rip, rsp) = line.split_once(' ').with_context(bad)?;
            let hex = |s: &str| u64::from_str_radix(s, 16).ok();
            let (rip, rsp) = hex(rip).zip(hex(rsp)).with_context(bad)?;
            call.steps.push(Step {
                rip,
                rsp,
                tsc: None,
            });
        }
    }
    Ok((calls, complete))
}

/// A function symbol of the kernel image.
struct Function {
    start: u64,
    end: u64,
    name: String,
}

/// The kernel ELF as the profiler needs it: function symbols, code bytes
/// (to find the `rdtsc`s) and DWARF (for inlined frames).
pub struct KernelImage {
    functions: Vec<Function>,
    code: Vec<(u64, Vec<u8>)>,
    dwarf: addr2line::Loader,
    inline_cache: HashMap<u64, Vec<String>>,
}

/// A Rust symbol demangled without its hash; `;` would split a folded
/// stack, so it becomes `,` (it appears in array types, `[u8; 4]`).
fn display_name(raw: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(raw)).replace(';', ",")
}

impl KernelImage {
    pub fn open(path: &Path) -> Result<KernelImage> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let elf = object::File::parse(&*bytes)
            .with_context(|| format!("{} is not an ELF file", path.display()))?;
        let mut functions: Vec<Function> = elf
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0)
            .filter_map(|s| {
                Some(Function {
                    start: s.address(),
                    end: s.address() + s.size(),
                    name: display_name(s.name().ok()?),
                })
            })
            .collect();
        functions.sort_by_key(|f| f.start);
        let code = elf
            .sections()
            .filter(|s| s.kind() == SectionKind::Text)
            .filter_map(|s| Some((s.address(), s.data().ok()?.to_vec())))
            .collect();
        let dwarf = addr2line::Loader::new(path)
            .map_err(|e| anyhow::anyhow!("reading the debug info of {}: {e}", path.display()))?;
        Ok(KernelImage {
            functions,
            code,
            dwarf,
            inline_cache: HashMap::new(),
        })
    }

    fn function(&self, pc: u64) -> Option<&Function> {
        let i = self.functions.partition_point(|f| f.start <= pc);
        let f = self.functions.get(i.checked_sub(1)?)?;
        (pc < f.end).then_some(f)
    }

    /// Every address whose bytes read as `rdtsc` or `rdtscp`: the stepper
    /// records the value read after an instruction at one of them, and the
    /// stamps are found among those values. (A match inside another
    /// instruction is harmless: execution never reaches it.)
    pub fn tsc_sites(&self) -> Vec<u64> {
        let mut sites = Vec::new();
        for (start, data) in &self.code {
            for (i, w) in data.windows(3).enumerate() {
                if w[..2] == [0x0f, 0x31] || w == [0x0f, 0x01, 0xf9] {
                    sites.push(start + i as u64);
                }
            }
        }
        sites
    }

    /// The functions executing at `pc`, outermost first: the symbol's
    /// function (its full demangled path) and what the debug info says was
    /// inlined into it there. The kernel's debug info is line tables only,
    /// which name an inlined function without its path, so those names
    /// carry their crate from the source file instead (`next [core]`).
    fn frames_at(&mut self, pc: u64) -> &[String] {
        if !self.inline_cache.contains_key(&pc) {
            let mut inlined: Vec<String> = Vec::new();
            if let Ok(mut frames) = self.dwarf.find_frames(pc) {
                while let Ok(Some(frame)) = frames.next() {
                    let Some(name) = frame.function.as_ref().and_then(|f| f.raw_name().ok()) else {
                        continue;
                    };
                    let file = frame.location.as_ref().and_then(|l| l.file).unwrap_or("");
                    inlined.push(format!("{} [{}]", display_name(&name), crate_of(file)));
                }
            }
            // find_frames lists innermost first; its last frame is the
            // physical function, which the symbol names better.
            inlined.pop();
            let mut names = vec![
                self.function(pc)
                    .map_or_else(|| JIT_CODE.to_string(), |f| f.name.clone()),
            ];
            names.extend(inlined.into_iter().rev());
            self.inline_cache.insert(pc, names);
        }
        &self.inline_cache[&pc]
    }
}

/// The crate a source file belongs to, from its path: a registry crate's
/// directory (`talc-4.4.2`), the standard library's (`library/core`), or
/// the workspace member's (`runner-kernel/src/…`).
fn crate_of(file: &str) -> String {
    let parts: Vec<&str> = file.split('/').collect();
    if let Some(i) = parts.iter().position(|p| *p == "library")
        && let Some(name) = parts.get(i + 1)
    {
        return name.to_string();
    }
    if let Some(i) = parts.iter().rposition(|p| *p == "src")
        && i > 0
    {
        let dir = parts[i - 1];
        // `talc-4.4.2` -> `talc`: cut at the version.
        let name = match dir.rfind('-') {
            Some(j) if dir[j + 1..].starts_with(|c: char| c.is_ascii_digit()) => &dir[..j],
            _ => dir,
        };
        return name.to_string();
    }
    String::from("?")
}

/// A physical frame while rebuilding stacks.
struct Frame {
    /// The function's start address (0 for code outside the image).
    key: u64,
    /// The stack pointer at its first instruction.
    entry_rsp: u64,
    /// Its latest instruction (for an outer frame: the call site).
    pc: u64,
}

/// Stage names for a call that took `n` stamps.
fn stage_names(n: usize) -> Vec<String> {
    let order: Vec<Stamp> = if n == Stamp::ALL.len() {
        Stamp::ALL.to_vec()
    } else if n == 2 {
        vec![Stamp::Call, Stamp::Return]
    } else {
        return (1..n)
            .map(|i| format!("stamp{}_to_stamp{}", i - 1, i))
            .collect();
    };
    order.windows(2).map(|w| Stamp::stage(w[0], w[1])).collect()
}

/// Fold one traced call into its profile.
pub fn profile(call: &TracedCall, image: &mut KernelImage, mode: &str, bound: u64) -> Profile {
    let (experiment, config) = call.names();
    // Stage boundaries: the steps that took the call's stamps, found by
    // the value they read (other code reads the TSC too); without the
    // stamps (a truncated call), every TSC read.
    let stamps = call.stamps.clone().unwrap_or_default();
    let mut stamp_steps: Vec<usize> = Vec::new();
    for (i, step) in call.steps.iter().enumerate() {
        let Some(value) = step.tsc else { continue };
        if stamps.is_empty() || stamps.get(stamp_steps.len()) == Some(&value) {
            stamp_steps.push(i);
        }
    }
    let n_stages = stamp_steps.len().saturating_sub(1);
    let names = stage_names(if stamps.is_empty() {
        stamp_steps.len()
    } else {
        stamps.len()
    });
    let stage_of = |i: usize| -> Option<usize> {
        let k = stamp_steps.partition_point(|&s| s <= i);
        (k >= 1 && k <= n_stages).then(|| k - 1)
    };

    let mut names_id: HashMap<String, u32> = HashMap::new();
    let mut table: Vec<String> = Vec::new();
    let mut intern = |name: &str| -> u32 {
        if let Some(&id) = names_id.get(name) {
            return id;
        }
        table.push(name.to_string());
        names_id.insert(name.to_string(), (table.len() - 1) as u32);
        (table.len() - 1) as u32
    };
    let mut folded: HashMap<Vec<u32>, u64> = HashMap::new();
    let mut self_count: HashMap<u32, (u64, Vec<u64>)> = HashMap::new();
    let mut total_count: HashMap<u32, u64> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut outside = 0;

    for (i, &Step { rip: pc, rsp, .. }) in call.steps.iter().enumerate() {
        let key = image.function(pc).map_or(0, |f| f.start);
        while stack.len() > 1 && stack.last().is_some_and(|f| f.entry_rsp < rsp) {
            stack.pop();
        }
        match stack.last_mut() {
            None => stack.push(Frame {
                key,
                entry_rsp: u64::MAX,
                pc,
            }),
            Some(top) if top.key == key => top.pc = pc,
            Some(top) if rsp >= top.entry_rsp => {
                *top = Frame {
                    key,
                    entry_rsp: rsp,
                    pc,
                }
            }
            Some(_) => stack.push(Frame {
                key,
                entry_rsp: rsp,
                pc,
            }),
        }
        let mut ids: Vec<u32> = Vec::new();
        for frame in &stack {
            for name in image.frames_at(frame.pc) {
                ids.push(intern(name));
            }
        }
        *folded.entry(ids.clone()).or_default() += 1;
        let leaf = *ids.last().expect("every frame has a name");
        let stage = stage_of(i);
        let entry = self_count
            .entry(leaf)
            .or_insert_with(|| (0, vec![0; n_stages]));
        entry.0 += 1;
        match stage {
            Some(s) => entry.1[s] += 1,
            None => outside += 1,
        }
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            *total_count.entry(id).or_default() += 1;
        }
    }

    // Exception entries: the stack pointer drops by at least an
    // exception frame (SS, RSP, RFLAGS, CS, RIP) while execution jumps
    // elsewhere (a `sub rsp` in a prologue falls through to the next
    // instruction; a call pushes 8 bytes).
    let raised_at = |i: usize| -> bool {
        let (a, b) = (&call.steps[i], &call.steps[i + 1]);
        let falls_through = b.rip > a.rip && b.rip <= a.rip + 15;
        b.rsp + 40 <= a.rsp && !falls_through
    };
    let mut exceptions = vec![0; n_stages];
    for i in 0..call.steps.len().saturating_sub(1) {
        if let Some(s) = stage_of(i).filter(|_| raised_at(i)) {
            exceptions[s] += 1;
        }
    }
    let stages = (0..n_stages)
        .map(|k| StageCount {
            exceptions: exceptions[k],
            run_median: None,
            stage: names.get(k).cloned().unwrap_or_else(|| format!("stage{k}")),
            instructions: (stamp_steps[k + 1] - stamp_steps[k]) as u64,
            stamp_delta: (stamps.len() == stamp_steps.len())
                .then(|| stamps[k + 1].wrapping_sub(stamps[k])),
        })
        .collect();
    let mut functions: Vec<FunctionCount> = total_count
        .iter()
        .map(|(&id, &total)| {
            let (own, by_stage) = self_count
                .get(&id)
                .cloned()
                .unwrap_or((0, vec![0; n_stages]));
            FunctionCount {
                function: table[id as usize].clone(),
                self_instructions: own,
                total_instructions: total,
                self_by_stage: by_stage,
            }
        })
        .collect();
    functions.sort_by(|a, b| {
        (b.self_instructions, b.total_instructions, &a.function).cmp(&(
            a.self_instructions,
            a.total_instructions,
            &b.function,
        ))
    });
    let mut folded: Vec<FoldedStack> = folded
        .into_iter()
        .map(|(ids, n)| FoldedStack {
            stack: ids
                .iter()
                .map(|&id| table[id as usize].as_str())
                .collect::<Vec<_>>()
                .join(";"),
            instructions: n,
        })
        .collect();
    folded.sort_by(|a, b| a.stack.cmp(&b.stack));
    Profile {
        experiment: experiment.to_string(),
        config: config.to_string(),
        mode: mode.to_string(),
        instructions: call.steps.len() as u64,
        truncated: call.truncated,
        bound,
        stamps,
        stages,
        outside_stamps: outside,
        functions,
        folded,
    }
}

/// Where the profiles of a run go: `<dir>/profile/`.
pub fn profile_dir(run_dir: &Path) -> PathBuf {
    run_dir.join("profile")
}

/// Write `profile` as `<dir>/<experiment>@<config>.json` and `.folded`.
pub fn write(dir: &Path, profile: &Profile) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let stem = profile.file_stem();
    let json = dir.join(format!("{stem}.json"));
    if json.exists() {
        bail!(
            "{} exists; a stored profile is never overwritten",
            json.display()
        );
    }
    std::fs::write(&json, serde_json::to_vec_pretty(profile)?)
        .with_context(|| format!("writing {}", json.display()))?;
    std::fs::write(dir.join(format!("{stem}.folded")), profile.folded_text())
        .with_context(|| format!("writing {stem}.folded"))?;
    Ok(json)
}
