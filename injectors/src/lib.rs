//! Fault-injection campaigns for traplab: what to inject, where, when, and
//! how to name what happened.
//!
//! Everything here is decision logic and is `no_std`, so the kernel runs
//! exactly the code the host unit-tests. The kernel supplies the hardware
//! actions through [`Machine`] (unmap a page, write code bytes, flip a
//! register of the interrupted context) and the facts about a target
//! through [`TargetFacts`] (which pages and instructions a clean run
//! touches).
//!
//! A campaign ([`CampaignSpec`]) is a seed, a count, targets and injectors.
//! Injection `i` is a pure function of `(spec, i)` ([`plan`]): its injector
//! and target are chosen round-robin by weight, its trigger point and site
//! come from a PCG stream seeded with `(seed, i)`. So a single injection of
//! a 10,000-injection campaign can be replayed alone, and the same seed
//! gives the same injection points in deterministic (icount) mode.
//!
//! One injector per file, each implementing [`Injector`]:
//! [`noop`] (the baseline: must always end `masked`), [`page_revoke`],
//! [`code_patch`], [`divisor_zero`], [`bit_flip`] (memory and register).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod bit_flip;
pub mod code_patch;
pub mod divisor_zero;
pub mod machine;
pub mod noop;
pub mod outcome;
pub mod page_revoke;
pub mod plan;
pub mod spec;

pub use machine::{Machine, Refused, Register, TargetFacts};
pub use outcome::{CallEnd, classify};
pub use plan::{Planned, TriggerPoint, plan};
pub use spec::Isolation;
pub use spec::{CampaignSpec, InjectorKind, InjectorSpec, SpecError, Trigger};
pub use traplab_wire::Outcome;

use alloc::boxed::Box;
use alloc::string::String;

/// Where an armed injection will strike, chosen by [`Injector::arm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The no-op injector changes nothing.
    Nothing,
    /// A 4 KiB page of linear memory, by byte offset of its start.
    Page { offset: u64 },
    /// An instruction start in the module's compiled code, by offset in
    /// its text section.
    Code { offset: u64 },
    /// Entry `index` of the target's `u32` divisor table at `offset`.
    Divisor { offset: u64, index: u32 },
    /// One bit of one byte of linear memory.
    MemoryBit { offset: u64, bit: u8 },
    /// One bit of a general-purpose register of the interrupted wasm code.
    RegisterBit { register: Register, bit: u8 },
}

impl Site {
    /// Short description for the `site` field of an injection record.
    pub fn describe(&self) -> String {
        use alloc::format;
        match *self {
            Site::Nothing => String::from("-"),
            Site::Page { offset } => format!("linear+{offset:#x}"),
            Site::Code { offset } => format!("text+{offset:#x}"),
            Site::Divisor { offset, index } => format!("divisor[{index}] linear+{offset:#x}"),
            Site::MemoryBit { offset, bit } => format!("linear+{offset:#x} bit {bit}"),
            Site::RegisterBit { register, bit } => format!("{} bit {bit}", register.name()),
        }
    }
}

/// One kind of fault. The life of an injection: [`arm`](Injector::arm)
/// picks the site (pure, seeded), [`fire`](Injector::fire) changes the
/// machine when the trigger goes off, [`disarm`](Injector::disarm) undoes
/// whatever must not outlive the trial (code bytes shared by every
/// instance of the module, page mappings) — whether or not it fired.
pub trait Injector {
    fn kind(&self) -> InjectorKind;
    /// Choose where to strike in `target`; `None` when this injector has
    /// nothing to strike there (e.g. no divisor table).
    fn arm(&mut self, target: &TargetFacts<'_>, rng: &mut oorandom::Rand64) -> Option<Site>;
    /// Make the change. Runs in the trigger's context: between calls
    /// (sync) or in the timer interrupt (async), so it must not allocate.
    fn fire(&mut self, machine: &mut dyn Machine) -> Result<(), Refused>;
    /// Undo what must not outlive this trial. Idempotent.
    fn disarm(&mut self, machine: &mut dyn Machine);
}

/// A fresh injector of `kind`.
pub fn injector(kind: InjectorKind) -> Box<dyn Injector> {
    match kind {
        InjectorKind::Noop => Box::new(noop::Noop),
        InjectorKind::PageRevoke => Box::new(page_revoke::PageRevoke::default()),
        InjectorKind::CodePatch => Box::new(code_patch::CodePatch::default()),
        InjectorKind::DivisorZero => Box::new(divisor_zero::DivisorZero::default()),
        InjectorKind::BitFlipMemory => Box::new(bit_flip::BitFlipMemory::default()),
        InjectorKind::BitFlipRegister => Box::new(bit_flip::BitFlipRegister::default()),
    }
}

/// A uniform index below `n` (> 0).
pub(crate) fn pick(rng: &mut oorandom::Rand64, n: usize) -> usize {
    debug_assert!(n > 0);
    rng.rand_range(0..n as u64) as usize
}

#[cfg(test)]
mod tests;
