//! The lab kernel as a platform of the shared runner core
//! (`traplab_runner_core`): its clock, its exception counters and the
//! stamps its trap path takes, its engine, and its record stream.

use alloc::string::String;
use core::sync::atomic::Ordering;

use traplab_runner_core::{FaultSeen, Platform};
use traplab_suite::{CodeTarget, EngineVariant};
use traplab_wire::{Record, Stamp};

use crate::arch::{cpu, idt};
use crate::platform::traps::WASMTIME_TSC;
use crate::{exceptions, fault, mm, report};

/// Ring 0: every stamp of the trap path is ours to take.
pub struct LabKernel;

impl Platform for LabKernel {
    const TRAP_STAMPS: &'static [Stamp] = &[Stamp::Stub, Stamp::Handler, Stamp::Wasmtime];
    const TARGET: CodeTarget = CodeTarget::LabKernel;

    fn kind(&self) -> traplab_wire::Platform {
        traplab_wire::Platform::LabKernel
    }

    #[inline(always)]
    fn stamp() -> u64 {
        cpu::stamp()
    }

    fn tsc_hz(&self) -> u64 {
        cpu::tsc_hz()
    }

    #[inline(always)]
    fn mask_interrupts(&self) -> bool {
        let enabled = cpu::interrupts_enabled();
        cpu::disable_interrupts();
        enabled
    }

    #[inline(always)]
    fn restore_interrupts(&self, were_enabled: bool) {
        if were_enabled {
            cpu::enable_interrupts();
        }
    }

    #[inline(always)]
    fn faults(&self) -> (u64, FaultSeen) {
        let (count, vector) = exceptions::counters();
        (
            count,
            FaultSeen {
                vector,
                ..FaultSeen::default()
            },
        )
    }

    fn trap_stamp(&self, stamp: Stamp) -> u64 {
        match stamp {
            Stamp::Stub => idt::last_stub_tsc(),
            Stamp::Handler => exceptions::HANDLER_TSC.load(Ordering::Relaxed),
            Stamp::Wasmtime => WASMTIME_TSC.load(Ordering::Relaxed),
            Stamp::Call | Stamp::Return => 0,
        }
    }

    fn expected_fault(&self, vector: u8) -> FaultSeen {
        FaultSeen {
            vector: Some(vector),
            ..FaultSeen::default()
        }
    }

    fn engine(&self, variant: EngineVariant) -> wasmtime::Result<wasmtime::Engine> {
        super::wasm::engine(variant)
    }

    fn set_during(&self, what: &str) {
        fault::set_during(what);
    }

    fn emit(&self, record: Record) {
        report::emit(record);
    }

    fn memory_in_use(&self) -> Option<(u64, u64)> {
        Some((mm::heap_used(), mm::frames_in_use()))
    }

    fn soft_float(&self) -> bool {
        // x86_64-unknown-none: the twins' floating point is software.
        true
    }

    fn log(&self, message: String) {
        report::log(message);
    }
}
