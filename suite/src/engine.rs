//! The one function that builds the wasmtime [`Config`] for both sides.
//!
//! `Module::deserialize` refuses an artifact whose compile-time settings differ
//! from the loading engine's (it names the setting: `signals_based_traps`,
//! `memory_reservation`, `memory_guard_size`, …). The host compiler and the
//! kernel therefore both start from [`engine_config`]; the host only adds the
//! compilation target, the kernel only adds runtime-only knobs that are not
//! part of the artifact (float ABI, CPU feature detection).
//!
//! Every setting the artifact records is set *explicitly* here, because the
//! host build of wasmtime has more cargo features (gc, threads, component
//! model) than the kernel build, and their defaults follow those features.

use serde::{Deserialize, Serialize};
use traplab_wire::config;
use wasmtime::Config;

/// The kernel's Rust target, which artifacts are compiled for.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
/// The Linux peer's target (a static glibc binary; see `peer-linux/`).
pub const LINUX_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Which platform an artifact is compiled for. The same workload, the same
/// `engine_config` and the same ISA flags, so the machine code differs
/// only where the target makes it (calling conventions into the runtime,
/// TLS access); the suite image carries one set of artifacts per target.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CodeTarget {
    /// The lab kernel (and any ring-0 custom platform of the same kind).
    #[default]
    #[serde(rename = "x86_64-unknown-none")]
    LabKernel,
    /// Upstream wasmtime on Linux, with its own signal handling.
    #[serde(rename = "x86_64-unknown-linux-gnu")]
    Linux,
}

impl CodeTarget {
    pub const ALL: [CodeTarget; 2] = [CodeTarget::LabKernel, CodeTarget::Linux];

    /// The target triple wasmtime compiles for.
    pub fn triple(self) -> &'static str {
        match self {
            CodeTarget::LabKernel => KERNEL_TARGET,
            CodeTarget::Linux => LINUX_TARGET,
        }
    }

    /// Whether this is the lab kernel's target (the manifest leaves the
    /// field out then, so lab-kernel manifests read as before peers).
    pub fn is_lab_kernel(&self) -> bool {
        *self == CodeTarget::LabKernel
    }
}

/// The host's compile configuration for `trap_mode` on `target` and the
/// CPU profile `cpu` ([`crate::cpu`]): [`engine_config`] plus the target
/// triple and the profile's Cranelift ISA flags. The Linux artifacts get the
/// same flags, so both platforms run the same instructions and a ratio
/// compares the platforms, not the code.
///
/// Every profile has SSE4.1, and must: without it Cranelift lowers
/// `f32/f64.{ceil,floor,trunc,nearest}` to calls into wasmtime's float
/// libcalls, which the kernel compiles for its soft-float target — they
/// would read and return integer registers while Cranelift passes the value
/// in `xmm0`, so `nearest(2.5)` came back as 2.5 (found by the conformance
/// scripts). With SSE4.1 these are single `round*` instructions and no float
/// crosses the soft-float boundary.
#[cfg(feature = "compiler")]
pub fn compile_config(
    trap_mode: TrapMode,
    target: CodeTarget,
    cpu: &crate::cpu::CpuProfile,
) -> wasmtime::Result<Config> {
    let mut config = engine_config(EngineVariant {
        trap_mode,
        backtrace: false,
    });
    config.target(target.triple())?;
    for feature in cpu.features {
        // SAFETY: the flag only lets Cranelift use the extension's
        // instructions; the runner checks the suite's profile against
        // CPUID before loading (`CpuRecord::missing_on`), and the loader
        // refuses artifacts needing a feature its CPU lacks
        // (`Module::deserialize` asks `detect_host_feature` in the kernel,
        // std's feature detection on Linux).
        unsafe { config.cranelift_flag_enable(feature.cranelift_flag) };
    }
    Ok(config)
}

/// How a workload's traps are detected.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TrapMode {
    /// Guard pages and CPU exceptions (#PF, #UD, #DE) raise traps; the kernel
    /// exception handlers hand them to wasmtime.
    Signals,
    /// `signals_based_traps(false)`: Cranelift emits explicit bounds, zero and
    /// overflow checks and traps without any CPU exception. The software
    /// baseline the exception path is compared against.
    Explicit,
}

impl TrapMode {
    pub const ALL: [TrapMode; 2] = [TrapMode::Signals, TrapMode::Explicit];

    pub fn name(self) -> &'static str {
        match self {
            TrapMode::Signals => "signals",
            TrapMode::Explicit => "explicit",
        }
    }
}

/// One engine configuration the kernel runs workloads under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineVariant {
    pub trap_mode: TrapMode,
    /// Capture a wasm backtrace on every trap (`wasm_backtrace_max_frames`).
    /// Runtime-only: the same artifact loads with either value.
    pub backtrace: bool,
}

impl EngineVariant {
    /// Every variant.
    pub const ALL: [EngineVariant; 4] = [
        EngineVariant {
            trap_mode: TrapMode::Signals,
            backtrace: false,
        },
        EngineVariant {
            trap_mode: TrapMode::Signals,
            backtrace: true,
        },
        EngineVariant {
            trap_mode: TrapMode::Explicit,
            backtrace: false,
        },
        EngineVariant {
            trap_mode: TrapMode::Explicit,
            backtrace: true,
        },
    ];

    /// The variant labelled `label`.
    pub fn from_label(label: &str) -> Option<EngineVariant> {
        EngineVariant::ALL.into_iter().find(|v| v.label() == label)
    }

    /// Configuration label used in records, e.g. `signals.bt_off`.
    pub fn label(self) -> &'static str {
        match (self.trap_mode, self.backtrace) {
            (TrapMode::Signals, false) => config::SIGNALS_BT_OFF,
            (TrapMode::Signals, true) => config::SIGNALS_BT_ON,
            (TrapMode::Explicit, false) => config::EXPLICIT_BT_OFF,
            (TrapMode::Explicit, true) => config::EXPLICIT_BT_ON,
        }
    }
}

/// Bytes of virtual address space reserved per linear memory with signals-based
/// traps: 4 GiB covers every 32-bit index, so Cranelift elides bounds checks
/// and an out-of-bounds access lands on an unmapped page (#PF).
pub const SIGNALS_MEMORY_RESERVATION: u64 = 4 << 30;
/// Unmapped bytes after the reservation, covering the constant offset of a
/// load/store (up to 2 GiB) so `base + index + offset` always hits a guard.
pub const SIGNALS_MEMORY_GUARD: u64 = 2 << 30;
/// Initial reservation with explicit checks: bounds are checked in code, so
/// memory only needs room to grow without moving for the suite's workloads.
pub const EXPLICIT_MEMORY_RESERVATION: u64 = 128 << 20;
/// Largest wasm stack a workload may use before `StackOverflow` (the kernel
/// stack is sized well above this plus the host frames below it).
pub const MAX_WASM_STACK: usize = 512 << 10;
/// Frames captured per trap when backtraces are on (wasmtime's default is 20;
/// kept explicit so a wasmtime upgrade cannot silently change what is timed).
pub const BACKTRACE_MAX_FRAMES: usize = 20;

/// Build the wasmtime `Config` for `variant`. The host compiles with
/// [`compile_config`] (this plus target and ISA flags); the kernel adds its
/// float-ABI and CPU-feature answers. Nothing else may be set elsewhere.
pub fn engine_config(variant: EngineVariant) -> Config {
    let mut config = Config::new();

    // Settings recorded in the artifact: must match on both sides.
    config.signals_based_traps(variant.trap_mode == TrapMode::Signals);
    match variant.trap_mode {
        TrapMode::Signals => {
            config.memory_reservation(SIGNALS_MEMORY_RESERVATION);
            config.memory_guard_size(SIGNALS_MEMORY_GUARD);
        }
        TrapMode::Explicit => {
            config.memory_reservation(EXPLICIT_MEMORY_RESERVATION);
            config.memory_guard_size(0);
        }
    }
    config.guard_before_linear_memory(false);
    config.memory_may_move(false);
    // No copy-on-write images: the kernel has no page cache to share from,
    // and initialising memory by copying keeps instantiation cost honest.
    config.memory_init_cow(false);
    config.table_lazy_init(false);
    config.epoch_interruption(false);
    config.consume_fuel(false);
    // wasmtime's default, stated because the fault injectors depend on it:
    // the address map lists the native instruction start of every wasm
    // instruction, where `code_patch` may place its `ud2`.
    config.generate_address_map(true);

    // The wasm features the suite uses. GC-dependent proposals stay off: the
    // kernel's wasmtime is built without the `gc` feature.
    config.gc_support(false);
    config.wasm_gc(false);
    config.wasm_stack_switching(false);
    config.wasm_simd(true);
    config.wasm_relaxed_simd(false);
    config.wasm_tail_call(true);
    config.wasm_multi_memory(false);
    config.wasm_memory64(false);
    config.wasm_wide_arithmetic(false);
    config.wasm_custom_page_sizes(false);

    // Runtime-only settings, kept here so every engine agrees on them.
    config.max_wasm_stack(MAX_WASM_STACK);
    config.wasm_backtrace_max_frames(if variant.backtrace {
        core::num::NonZeroUsize::new(BACKTRACE_MAX_FRAMES)
    } else {
        None
    });
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_labelled_in_the_wire_order() {
        // The runners plan `EngineVariant::ALL`; the analyzer reads
        // `config::ENGINE`: one list, one order.
        assert_eq!(EngineVariant::ALL.map(EngineVariant::label), config::ENGINE);
        for v in EngineVariant::ALL {
            assert_eq!(EngineVariant::from_label(v.label()), Some(v));
        }
    }
}
