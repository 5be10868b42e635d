//! The instruction profile of one call: what `traplab-profile` (harness)
//! writes after single-stepping it, and what `traplab profile` (analyzer)
//! reads and renders. Exact counts, not samples: every instruction the CPU
//! executed between the call's marks is counted once.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// The name of code outside the kernel image: the workload's compiled
/// wasm and wasmtime's trampolines, loaded from the suite image at run
/// time.
pub const JIT_CODE: &str = "[jit code]";

/// One stepped call.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Profile {
    pub experiment: String,
    pub config: String,
    /// The measurement mode of the stepped run (`icount`, `tcg`).
    pub mode: String,
    /// Instructions stepped between the marks.
    pub instructions: u64,
    /// Whether stepping stopped at the bound before the call ended; the
    /// counts then cover only its first `bound` instructions.
    pub truncated: bool,
    pub bound: u64,
    /// The call's own stamps as the platform took them (platform clock;
    /// under icount, instructions), `Call` first.
    pub stamps: Vec<u64>,
    /// Instructions per stage, between consecutive stamps.
    pub stages: Vec<StageCount>,
    /// Instructions before the first stamp and after the last: the
    /// runner's own bookkeeping around the call (masking interrupts,
    /// reading the fault counters, formatting the trap).
    pub outside_stamps: u64,
    /// Every instruction by the crate that owns it: the innermost frame
    /// outside the standard library (an inlined `checked_sub` in the
    /// allocator is the allocator's), most first.
    #[serde(default)]
    pub crates: Vec<CrateCount>,
    /// Every function that executed, by instructions in it and under it.
    pub functions: Vec<FunctionCount>,
    /// Folded stacks (`outer;…;inner`), as flame-graph tools read them.
    pub folded: Vec<FoldedStack>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StageCount {
    /// `call_to_stub`, … (`crate::Stamp::stage`).
    pub stage: String,
    /// Stepped instructions from the stage's first stamp (its `rdtsc`
    /// included) to the next one (excluded).
    pub instructions: u64,
    /// The difference of the two stamps the platform took: under icount
    /// the same count, which checks the profiler.
    pub stamp_delta: Option<u64>,
    /// The stage in a run of the same build and experiment without the
    /// stepper (`traplab-profile` boots one first). Under icount a call's
    /// count depends only on the state it starts from: the allocator's
    /// free lists make consecutive calls differ by tens of instructions in
    /// a repeating pattern, so the profiled call falls within the run's
    /// range, not necessarily on its median.
    #[serde(default)]
    pub run: Option<RunStage>,
    /// Instructions in the stage that raised an exception (the step after
    /// them is an exception entry).
    #[serde(default)]
    pub exceptions: u64,
}

impl StageCount {
    /// Whether the stepped count agrees with the stamps under icount. An
    /// instruction that raises an exception was stepped (the CPU ran it
    /// and raised from it), but QEMU's icount leaves it out when the
    /// exception comes while it executes (a memory access, a division)
    /// and counts it when it comes from translation (`ud2`): so each such
    /// instruction may be missing from the stamps' difference.
    pub fn agrees(&self) -> bool {
        self.stamp_delta
            .is_some_and(|d| d <= self.instructions && self.instructions - d <= self.exceptions)
    }
}

/// A stage's values in a run without the stepper.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct RunStage {
    pub samples: u64,
    pub median: f64,
    pub min: u64,
    pub max: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CrateCount {
    /// A crate (`talc`, `wasmtime`, `runner_kernel`, …; `-` spelled `_`),
    /// or `[jit code]`.
    #[serde(rename = "crate")]
    pub krate: String,
    pub instructions: u64,
    /// Per stage, in the order of `Profile::stages`.
    pub by_stage: Vec<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct FunctionCount {
    /// Demangled name without its hash; inlined functions count as
    /// themselves. `[jit code]` for code outside the kernel image (the
    /// workload's compiled wasm and wasmtime's trampolines).
    pub function: String,
    /// Its crate, from its source file (`[jit code]` outside the image).
    #[serde(default, rename = "crate")]
    pub krate: String,
    /// Instructions executed in this function itself.
    pub self_instructions: u64,
    /// Instructions executed while it was on the stack.
    pub total_instructions: u64,
    /// `self_instructions` per stage, in the order of `Profile::stages`.
    pub self_by_stage: Vec<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct FoldedStack {
    pub stack: String,
    pub instructions: u64,
}

impl Profile {
    /// File name of a profile in a run directory: `profile/<experiment>@<config>.json`.
    pub fn file_stem(&self) -> String {
        let mut s = self.experiment.clone();
        s.push('@');
        s.push_str(&self.config);
        s
    }

    /// The folded stacks as text, one `stack count` per line.
    pub fn folded_text(&self) -> String {
        let mut out = String::new();
        for f in &self.folded {
            out.push_str(&f.stack);
            out.push(' ');
            out.push_str(&alloc::format!("{}", f.instructions));
            out.push('\n');
        }
        out
    }
}
