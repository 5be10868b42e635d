//! What the run header says about the processor, from CPUID: vendor,
//! model, the features wasmtime may ask about, the TSC's invariance and
//! frequency leaves, and the hypervisor signature. CPUID (and `xgetbv`) are
//! unprivileged, so ring 0 and ring 3 platforms share this.

use alloc::string::String;
use alloc::vec::Vec;
use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv, CpuidResult};

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
        let mut features: Vec<String> = feature_names()
            .filter(|name| detect_feature(name) == Some(true))
            .map(String::from)
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

    /// The header's `cpu` record, and what else the header needs:
    /// `(cpu, accelerator, invariant TSC)`.
    pub fn into_header(self) -> (traplab_wire::Cpu, String, bool) {
        let accelerator = self.accelerator();
        let cpu = traplab_wire::Cpu {
            vendor: self.vendor,
            model: self.model,
            family: self.family,
            model_id: self.model_id,
            stepping: self.stepping,
            features: self.features,
        };
        (cpu, accelerator, self.invariant_tsc)
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

/// Features wasmtime may ask about that no CPU profile names yet; the run
/// header lists them after the profiles' own ([`feature_names`]).
const MORE_FEATURE_NAMES: [&str; 7] = [
    "avxvnni",
    "avx512f",
    "avx512dq",
    "avx512vl",
    "avx512bitalg",
    "avx512vbmi",
    "avx512vnni",
];

/// Features wasmtime may ask about (its `detect_host_feature` names), in
/// the order the run header lists them: those CPU profiles are made of
/// (`traplab_suite::cpu::ALL_FEATURES`), then the rest.
fn feature_names() -> impl Iterator<Item = &'static str> {
    traplab_suite::cpu::ALL_FEATURES
        .iter()
        .map(|f| f.name)
        .chain(MORE_FEATURE_NAMES)
}

/// Answer wasmtime's "does the host have feature X" from CPUID. Features that
/// need OS support (AVX and up) count only if the OS (the lab kernel's `enable_simd`,
/// or Linux) enabled their state in XCR0 — otherwise code using them would fault with #UD.
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
