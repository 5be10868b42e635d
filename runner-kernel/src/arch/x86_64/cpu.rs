//! Processor identification, control registers, SIMD enablement and the
//! serialized timestamp.

use alloc::string::String;
use alloc::vec::Vec;
use core::arch::asm;
use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv, CpuidResult};

/// A serialized TSC read: `lfence` keeps earlier instructions from drifting
/// past the read and the trailing `lfence` keeps later ones from starting
/// before it (Intel 324264 uses `cpuid` for the former; `lfence` is
/// serializing enough for `rdtsc` on Intel and on AMD with
/// `LFENCE`-serializing set, and costs far less under emulation).
#[inline(always)]
pub fn stamp() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: lfence/rdtsc only read the TSC into EDX:EAX.
    unsafe {
        asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

/// CR2: the linear address of the last page fault.
pub fn read_cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}

pub fn interrupts_enabled() -> bool {
    x86_64::instructions::interrupts::are_enabled()
}

pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}

pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

pub fn halt_forever() -> ! {
    loop {
        disable_interrupts();
        x86_64::instructions::hlt();
    }
}

/// Let wasm code (compiled by Cranelift with hardware floats and SIMD) use
/// SSE, and AVX where the CPU has it: CR0.MP on, CR0.EM off, CR4.OSFXSR and
/// CR4.OSXMMEXCPT on; with XSAVE, CR4.OSXSAVE and XCR0 = x87|SSE|AVX.
///
/// Kernel Rust code itself is soft-float and never touches these registers,
/// so there is no state to save across exceptions (single task, no
/// preemption).
pub fn enable_simd() {
    use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
    // SAFETY: only enables architectural features the CPU reports (SSE2 is
    // architectural on x86-64; XSAVE/AVX are checked below).
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
        let leaf1 = __cpuid(1);
        let has_xsave = leaf1.ecx & (1 << 26) != 0;
        let has_avx = leaf1.ecx & (1 << 28) != 0;
        if has_xsave {
            Cr4::update(|f| f.insert(Cr4Flags::OSXSAVE));
            let mut xcr0: u64 = 0b011; // x87 | SSE
            if has_avx {
                xcr0 |= 0b100; // AVX (YMM upper halves)
            }
            asm!("xsetbv", in("ecx") 0u32, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32, options(nomem, nostack));
        }
    }
}

/// What the run header says about the processor.
pub struct CpuInfo {
    pub vendor: String,
    pub model: String,
    pub family: u32,
    pub model_id: u32,
    pub stepping: u32,
    pub features: Vec<String>,
    pub invariant_tsc: bool,
    /// CPUID 0x40000000 vendor signature when a hypervisor is present.
    pub hypervisor: Option<String>,
}

fn regs_to_string(regs: &[u32]) -> String {
    let mut bytes = Vec::with_capacity(regs.len() * 4);
    for r in regs {
        bytes.extend_from_slice(&r.to_le_bytes());
    }
    let text: String = bytes
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    String::from(text.trim())
}

impl CpuInfo {
    pub fn read() -> CpuInfo {
        // Extended leaves are only read after checking the maximum leaf.
        let leaf0 = __cpuid(0);
        let vendor = regs_to_string(&[leaf0.ebx, leaf0.edx, leaf0.ecx]);
        let leaf1 = __cpuid(1);
        let base_family = (leaf1.eax >> 8) & 0xf;
        let ext_family = (leaf1.eax >> 20) & 0xff;
        let family = if base_family == 0xf {
            base_family + ext_family
        } else {
            base_family
        };
        let base_model = (leaf1.eax >> 4) & 0xf;
        let ext_model = (leaf1.eax >> 16) & 0xf;
        let model_id = if base_family == 0x6 || base_family == 0xf {
            (ext_model << 4) | base_model
        } else {
            base_model
        };
        let stepping = leaf1.eax & 0xf;

        let max_ext = __cpuid(0x8000_0000).eax;
        let model = if max_ext >= 0x8000_0004 {
            let mut regs = Vec::new();
            for leaf in 0x8000_0002u32..=0x8000_0004 {
                let r = __cpuid(leaf);
                regs.extend_from_slice(&[r.eax, r.ebx, r.ecx, r.edx]);
            }
            regs_to_string(&regs)
        } else {
            String::from("unknown")
        };
        let invariant_tsc = max_ext >= 0x8000_0007 && __cpuid(0x8000_0007).edx & (1 << 8) != 0;
        let hypervisor = (leaf1.ecx & (1 << 31) != 0).then(|| {
            let r = __cpuid(0x4000_0000);
            regs_to_string(&[r.ebx, r.ecx, r.edx])
        });
        let mut features: Vec<String> = FEATURE_NAMES
            .iter()
            .filter(|name| detect_feature(name) == Some(true))
            .map(|name| String::from(*name))
            .collect();
        if invariant_tsc {
            features.push(String::from("invariant_tsc"));
        }
        CpuInfo {
            vendor,
            model,
            family,
            model_id,
            stepping,
            features,
            invariant_tsc,
            hypervisor,
        }
    }

    /// The accelerator as the run header names it.
    pub fn accelerator(&self) -> String {
        match self.hypervisor.as_deref() {
            None => String::from("none"),
            Some("TCGTCGTCGTCG") => String::from("tcg"),
            Some("KVMKVMKVM") => String::from("kvm"),
            Some("Microsoft Hv") => String::from("hyperv"),
            Some(other) => alloc::format!("other:{other}"),
        }
    }
}

/// Features wasmtime may ask about (its `detect_host_feature` names), in
/// the order the run header lists them.
const FEATURE_NAMES: [&str; 19] = [
    "sse3",
    "ssse3",
    "sse4.1",
    "sse4.2",
    "popcnt",
    "cmpxchg16b",
    "lzcnt",
    "bmi1",
    "bmi2",
    "avx",
    "avx2",
    "fma",
    "avxvnni",
    "avx512f",
    "avx512dq",
    "avx512vl",
    "avx512bitalg",
    "avx512vbmi",
    "avx512vnni",
];

/// Answer wasmtime's "does the host have feature X" from CPUID. Features that
/// need OS support (AVX and up) count only if [`enable_simd`] enabled their
/// state in XCR0 — otherwise code using them would fault with #UD.
pub fn detect_feature(name: &str) -> Option<bool> {
    // Leaf 7 is guarded by the maximum standard leaf.
    const NONE: CpuidResult = CpuidResult {
        eax: 0,
        ebx: 0,
        ecx: 0,
        edx: 0,
    };
    let (l1, l7, l7_1, ext) = {
        let max = __cpuid(0).eax;
        let (l7, l7_1) = if max >= 7 {
            (__cpuid_count(7, 0), __cpuid_count(7, 1))
        } else {
            (NONE, NONE)
        };
        (__cpuid(1), l7, l7_1, __cpuid(0x8000_0001))
    };
    let bit = |reg: u32, n: u32| reg & (1 << n) != 0;
    let osxsave = bit(l1.ecx, 27);
    // SAFETY: xgetbv is only executed when CR4.OSXSAVE is reported set.
    let xcr0 = if osxsave { unsafe { _xgetbv(0) } } else { 0 };
    let avx_state = osxsave && xcr0 & 0b110 == 0b110;
    let avx512_state = avx_state && xcr0 & 0b1110_0000 == 0b1110_0000;
    Some(match name {
        "sse3" => bit(l1.ecx, 0),
        "ssse3" => bit(l1.ecx, 9),
        "sse4.1" => bit(l1.ecx, 19),
        "sse4.2" => bit(l1.ecx, 20),
        "popcnt" => bit(l1.ecx, 23),
        "cmpxchg16b" => bit(l1.ecx, 13),
        "lzcnt" => bit(ext.ecx, 5),
        "bmi1" => bit(l7.ebx, 3),
        "bmi2" => bit(l7.ebx, 8),
        "avx" => avx_state && bit(l1.ecx, 28),
        "avx2" => avx_state && bit(l7.ebx, 5),
        "fma" => avx_state && bit(l1.ecx, 12),
        "avxvnni" => avx_state && bit(l7_1.eax, 4),
        "avx512f" => avx512_state && bit(l7.ebx, 16),
        "avx512dq" => avx512_state && bit(l7.ebx, 17),
        "avx512vl" => avx512_state && bit(l7.ebx, 31),
        "avx512bitalg" => avx512_state && bit(l7.ecx, 12),
        "avx512vbmi" => avx512_state && bit(l7.ecx, 1),
        "avx512vnni" => avx512_state && bit(l7.ecx, 11),
        _ => return None,
    })
}

static TSC_HZ: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Record the calibrated TSC frequency (once, at boot).
pub fn set_tsc_hz(hz: u64) {
    TSC_HZ.store(hz, core::sync::atomic::Ordering::Relaxed);
}

/// The calibrated TSC frequency in Hz (0 before calibration).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(core::sync::atomic::Ordering::Relaxed)
}

/// TSC frequency from CPUID leaf 0x15 (crystal ratio) or 0x16 (base MHz),
/// with the leaf it came from. `None` when neither is populated, as under
/// most hypervisors.
pub fn tsc_hz_from_cpuid() -> Option<(u64, &'static str)> {
    // Leaves are read only up to the reported maximum.
    let max = __cpuid(0).eax;
    if max >= 0x15 {
        let l = __cpuid(0x15);
        if l.eax != 0 && l.ebx != 0 && l.ecx != 0 {
            return Some((l.ecx as u64 * l.ebx as u64 / l.eax as u64, "cpuid.15h"));
        }
    }
    if max >= 0x16 {
        let l = __cpuid(0x16);
        if l.eax & 0xffff != 0 {
            return Some(((l.eax & 0xffff) as u64 * 1_000_000, "cpuid.16h"));
        }
    }
    None
}

/// Run `f` with CR0.WP clear, so ring-0 writes go through read-only pages
/// (fault injection patching compiled code), with interrupts off so
/// nothing else runs while protection is down.
pub fn with_write_protect_off<R>(f: impl FnOnce() -> R) -> R {
    use x86_64::registers::control::{Cr0, Cr0Flags};
    let interrupts = interrupts_enabled();
    disable_interrupts();
    let cr0 = Cr0::read();
    // SAFETY: clearing WP only relaxes write checks for ring 0; it is set
    // back before anything else runs.
    unsafe { Cr0::write(cr0 - Cr0Flags::WRITE_PROTECT) };
    let result = f();
    // SAFETY: restores the value read above.
    unsafe { Cr0::write(cr0) };
    if interrupts {
        enable_interrupts();
    }
    result
}
