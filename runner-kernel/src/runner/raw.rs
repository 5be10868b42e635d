//! The raw exception floor: exceptions raised by kernel code, no wasm
//! involved, resumed with `iretq`. The raising instructions and their
//! fixups are the hardware boundary's (`crate::arch::raise`); the
//! demand-paging case instead has the pager map the page and retry the
//! instruction.

use traplab_runner_core::floor::FloorExperiment;
use traplab_wire::TrapSignature;

use crate::arch::raise;
use crate::mm;

/// What a raw experiment must raise: exactly one exception of `vector`.
const fn raises(vector: u8) -> Option<TrapSignature> {
    Some(TrapSignature::vector(None, Some(vector)))
}

fn nothing() {}

/// The demand-paged page the `raw.pf_demand` experiment touches.
const DEMAND_PAGE: u64 = mm::DEMAND_BASE;

fn evict_demand_page() {
    mm::evict_demand_page(DEMAND_PAGE);
}

fn touch_demand_page() {
    // SAFETY: the access faults once, the pager maps a zeroed page and the
    // load is retried.
    unsafe { core::ptr::read_volatile(DEMAND_PAGE as *const u64) };
}

/// The raw experiments, run by the runner core's floor loop.
pub const RAW_EXPERIMENTS: [FloorExperiment; 6] = [
    FloorExperiment {
        name: "raw.pf",
        expected: raises(0x0E),
        prepare: nothing,
        raise: raise::page_fault,
    },
    FloorExperiment {
        name: "raw.ud",
        expected: raises(0x06),
        prepare: nothing,
        raise: raise::invalid_opcode,
    },
    FloorExperiment {
        name: "raw.de",
        expected: raises(0x00),
        prepare: nothing,
        raise: raise::divide_error,
    },
    FloorExperiment {
        name: "raw.gp",
        expected: raises(0x0D),
        prepare: nothing,
        raise: raise::general_protection,
    },
    FloorExperiment {
        name: "raw.bp",
        expected: raises(0x03),
        prepare: nothing,
        raise: raise::breakpoint,
    },
    FloorExperiment {
        name: "raw.pf_demand",
        expected: raises(0x0E),
        prepare: evict_demand_page,
        raise: touch_demand_page,
    },
];
