//! The lab kernel as a platform of the shared runner core
//! (`traplab_runner_core`): its clock, its exception counters and the
//! stamps its trap path takes, its engine, and its record stream.

use alloc::format;
use alloc::string::String;
use core::sync::atomic::Ordering;

use traplab_runner_core::{Abandoned, FaultSeen, Platform};
use traplab_suite::{CodeTarget, EngineVariant};
use traplab_wire::{Record, Stamp};

use crate::arch::{cpu, gate, idt};
use crate::exceptions::Exception;
use crate::platform::tls;
use crate::platform::traps::WASMTIME_TSC;
use crate::recovery::{self, Containment};
use crate::{exceptions, fault, mm, report, symbols};

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

    fn set_during(&self, during: traplab_wire::During) {
        fault::set_during(during);
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

    /// Behind the recovery gate with containment armed everywhere: the
    /// panic handler, or the dispatcher after wasmtime's handler declined a
    /// fault, leaves `f` through the gate's landing pad (the campaign's
    /// machinery, `runner::campaign`). `f`'s frames are abandoned, not
    /// unwound: its store, instance and module are never dropped (leaked;
    /// the core reports how much) and wasmtime's TLS slot, which still
    /// points into them, is put back as it was.
    ///
    /// Never contained: a wasm trap (wasmtime's handler runs first in
    /// dispatch and does not return), and a panic or fault while the heap
    /// or page mapper is locked (abandoning would leave the lock held for
    /// good) — that stays a kernel crash, reported as one.
    ///
    /// Residual risk: locks the kernel cannot see. wasmtime's no_std
    /// `OnceLock`/`RwLock` (the global code registry, written when a module
    /// is registered or dropped, read on every trap) panic on contention
    /// instead of blocking; if an experiment were abandoned while holding
    /// one, each later use would panic — contained again, so the later
    /// experiments fail naming "concurrent … request" rather than the run
    /// hanging. The kernel's own spin locks on this path (the serial port,
    /// `fault::set_during`) are held only by runner code, never across a
    /// call into wasmtime or a workload; a hang there would be stopped by
    /// the host's `--timeout` (exit 4), not by a watchdog (the LAPIC
    /// watchdog is the campaign's).
    fn contain<R>(&self, f: impl FnOnce() -> R) -> Result<R, Abandoned> {
        // One gate at a time: inside another gated call (a campaign's),
        // that gate's containment already stands.
        if gate::active() {
            return Ok(f());
        }
        recovery::set_containment(Some(Containment {
            code: (0, 0),
            data: (0, 0),
            anywhere: true,
            backtrace: true,
            landing: gate::landing_address(),
        }));
        let saved_tls = tls::save();
        let result = recovery::contain_on(None, f);
        recovery::set_containment(None);
        if let Some(value) = result {
            return Ok(value);
        }
        tls::restore(saved_tls);
        report::count_contained();
        let backtrace = fault::take_contained_backtrace();
        let reason = match (fault::take_contained_panic(), recovery::last_contained()) {
            (Some(panic), _) => match panic.location {
                Some(at) => format!("panic at {at}: {}", panic.message),
                None => format!("panic: {}", panic.message),
            },
            (None, Some((vector, rip, cr2))) => {
                let exception = Exception::from_vector(vector).mnemonic();
                let at = symbols::lookup(rip).map_or_else(
                    || format!("{rip:#x}"),
                    |(name, offset)| format!("{name}+{offset:#x}"),
                );
                match cr2 {
                    Some(addr) => format!("unclaimed {exception} at {at}, address {addr:#x}"),
                    None => format!("unclaimed {exception} at {at}"),
                }
            }
            (None, None) => String::from("abandoned"),
        };
        Err(Abandoned { reason, backtrace })
    }
}
