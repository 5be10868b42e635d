//! CPU profiles: which x86-64 ISA extensions compiled code may use.
//!
//! Cranelift compiles for the extensions it is told the CPU has; with none
//! beyond SSE2 it lowers some wasm instructions to calls into wasmtime's
//! libcalls instead (`i8x16.shuffle`/`swizzle` without SSSE3, float
//! rounding without SSE4.1, relaxed `madd` without FMA). The lab kernel's
//! wasmtime is built for a soft-float target, where those libcalls are
//! either `unreachable!()` (the SIMD ones are compiled only with the `sse`
//! target feature) or read floats from the wrong registers. So the host
//! compiles every suite for a named profile that matches the CPU the run
//! will have — the QEMU `-cpu` of each QEMU profile, or a documented
//! baseline for bare metal — and [`unreachable_libcalls`] refuses, before
//! any boot, a module that would still need a libcall under it.
//!
//! The suite manifest records the profile's name and features; the runner
//! checks them against CPUID before loading anything (wasmtime's
//! `Module::deserialize` would refuse too, one artifact at a time, with a
//! less helpful message).

use serde::{Deserialize, Serialize};

/// One ISA extension: its name as wasmtime's `detect_host_feature` asks
/// for it (and as the run header's `cpu.features` lists it), and the
/// Cranelift setting that lets compiled code use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsaFeature {
    pub name: &'static str,
    pub cranelift_flag: &'static str,
}

const fn feature(name: &'static str, cranelift_flag: &'static str) -> IsaFeature {
    IsaFeature {
        name,
        cranelift_flag,
    }
}

pub const SSE3: IsaFeature = feature("sse3", "has_sse3");
pub const SSSE3: IsaFeature = feature("ssse3", "has_ssse3");
pub const SSE41: IsaFeature = feature("sse4.1", "has_sse41");
pub const SSE42: IsaFeature = feature("sse4.2", "has_sse42");
pub const POPCNT: IsaFeature = feature("popcnt", "has_popcnt");
pub const CMPXCHG16B: IsaFeature = feature("cmpxchg16b", "has_cmpxchg16b");
pub const LZCNT: IsaFeature = feature("lzcnt", "has_lzcnt");
pub const BMI1: IsaFeature = feature("bmi1", "has_bmi1");
pub const BMI2: IsaFeature = feature("bmi2", "has_bmi2");
pub const AVX: IsaFeature = feature("avx", "has_avx");
pub const AVX2: IsaFeature = feature("avx2", "has_avx2");
pub const FMA: IsaFeature = feature("fma", "has_fma");

/// Every feature a profile may name, in the run header's order.
pub const ALL_FEATURES: [IsaFeature; 12] = [
    SSE3, SSSE3, SSE41, SSE42, POPCNT, CMPXCHG16B, LZCNT, BMI1, BMI2, AVX, AVX2, FMA,
];

/// x86-64-v2 (Intel Nehalem, 2008, and AMD Bulldozer, 2011, onwards).
const V2: [IsaFeature; 6] = [SSE3, SSSE3, SSE41, SSE42, POPCNT, CMPXCHG16B];
/// x86-64-v3 (Intel Haswell, 2013, and AMD Excavator/Zen onwards).
const V3: [IsaFeature; 12] = [
    SSE3, SSSE3, SSE41, SSE42, POPCNT, CMPXCHG16B, LZCNT, BMI1, BMI2, AVX, AVX2, FMA,
];

/// A named set of ISA extensions compiled code may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuProfile {
    pub name: &'static str,
    /// Which machines have it, for `--help` and error messages.
    pub describe: &'static str,
    pub features: &'static [IsaFeature],
}

/// QEMU 7.2's `-cpu max` under TCG (the `tcg`, `icount` and `iso` QEMU
/// profiles): every extension TCG emulates among those Cranelift uses —
/// x86-64-v3, checked against the run header's CPUID list of a TCG boot.
pub const QEMU_MAX: CpuProfile = CpuProfile {
    name: "qemu-max",
    describe: "QEMU TCG `-cpu max` (the tcg, icount and iso QEMU profiles): x86-64-v3",
    features: &V3,
};

/// The bare-metal default: every x86-64 CPU of the last fifteen years.
pub const X86_64_V2: CpuProfile = CpuProfile {
    name: "x86-64-v2",
    describe: "bare-metal baseline: SSE4.2, POPCNT (Intel Nehalem 2008+, AMD Bulldozer 2011+)",
    features: &V2,
};

/// Newer bare metal, or KVM with `-cpu host` on such a machine.
pub const X86_64_V3: CpuProfile = CpuProfile {
    name: "x86-64-v3",
    describe: "AVX2, BMI1/2, LZCNT, FMA (Intel Haswell 2013+, AMD Zen 2017+)",
    features: &V3,
};

/// The profile of suites before profiles existed: SSE4.1 alone (the
/// kernel's floor: float rounding must not become a libcall). Kept to
/// reproduce old runs; SIMD shuffles cannot compile for it.
pub const SSE41_ONLY: CpuProfile = CpuProfile {
    name: "sse4.1-only",
    describe: "SSE4.1 alone: the flags of suites built before CPU profiles; no SSSE3, so i8x16.shuffle/swizzle are refused",
    features: &[SSE41],
};

/// Every named profile.
pub const PROFILES: [CpuProfile; 4] = [QEMU_MAX, X86_64_V2, X86_64_V3, SSE41_ONLY];

impl CpuProfile {
    /// The profile named `name`, or an error listing the names.
    pub fn by_name(name: &str) -> Result<CpuProfile, alloc::string::String> {
        PROFILES
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let names: alloc::vec::Vec<&str> = PROFILES.iter().map(|p| p.name).collect();
                alloc::format!(
                    "unknown CPU profile `{name}`; the profiles are {}",
                    names.join(", ")
                )
            })
    }

    /// Whether compiled code may use `feature`.
    pub fn has(&self, feature: IsaFeature) -> bool {
        self.features.contains(&feature)
    }

    /// What the suite manifest records.
    pub fn record(&self) -> CpuRecord {
        CpuRecord {
            profile: self.name.into(),
            features: self.features.iter().map(|f| f.name.into()).collect(),
        }
    }
}

/// The CPU profile a suite was compiled for, as its manifest records it.
/// The feature names are those of the run header's `cpu.features`, so a
/// runner checks them against CPUID without knowing the profiles.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct CpuRecord {
    pub profile: alloc::string::String,
    pub features: alloc::vec::Vec<alloc::string::String>,
}

impl CpuRecord {
    /// A problem for a CPU whose features are `has`: the profile's features
    /// it lacks, named, with what to do about it.
    pub fn missing_on(&self, has: &[alloc::string::String]) -> Option<alloc::string::String> {
        let missing: alloc::vec::Vec<&str> = self
            .features
            .iter()
            .filter(|f| !has.contains(f))
            .map(|f| f.as_str())
            .collect();
        (!missing.is_empty()).then(|| {
            alloc::format!(
                "the suite was compiled for CPU profile {} and this CPU lacks {}; boot on a CPU that has them (QEMU: -cpu max) or rebuild the suite for a smaller profile (--cpu-profile x86-64-v2)",
                self.profile,
                missing.join(", ")
            )
        })
    }
}

/// Why a module that uses `operators` cannot run when compiled for
/// `profile`: each wasm instruction that Cranelift would lower to a
/// wasmtime libcall missing (or wrong) in a soft-float kernel's wasmtime,
/// named with the feature that would make it inline. Empty: it can run.
///
/// The instructions are those of Cranelift's x64 lowering that fall back to
/// `LibCall`s (cranelift-codegen 0.135, `isa/x64/lower.isle`): `X86Pshufb`
/// for shuffles and swizzles without SSSE3, `CeilF32`…`NearestF64` for
/// rounding without SSE4.1 (scalar and vector). Relaxed-SIMD `madd` would
/// need FMA, but the engine leaves relaxed SIMD off, so it never validates.
pub fn unreachable_libcalls(
    profile: &CpuProfile,
    uses: &WasmUses,
) -> alloc::vec::Vec<&'static str> {
    let mut why = alloc::vec::Vec::new();
    if !profile.has(SSSE3) && uses.byte_shuffles {
        why.push("i8x16.shuffle/i8x16.swizzle need SSSE3 (pshufb), else wasmtime's i8x16 libcall, which a soft-float kernel's wasmtime lacks");
    }
    if !profile.has(SSE41) && uses.float_rounding {
        why.push("float ceil/floor/trunc/nearest need SSE4.1 (round*), else a float libcall across the soft-float boundary");
    }
    why
}

/// The instruction classes of a module that [`unreachable_libcalls`] asks
/// about (the host scans the module's code for them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WasmUses {
    pub byte_shuffles: bool,
    pub float_rounding: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| String::from(*s)).collect()
    }

    #[test]
    fn a_cpu_lacking_profile_features_is_named_with_what_to_do() {
        let record = X86_64_V3.record();
        let tcg = names(&[
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
            "invariant_tsc",
        ]);
        assert_eq!(record.missing_on(&tcg), None);
        let nehalem = names(&["sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", "cmpxchg16b"]);
        let problem = record.missing_on(&nehalem).unwrap();
        assert!(
            problem.contains("CPU profile x86-64-v3")
                && problem.contains("lacks lzcnt, bmi1, bmi2, avx, avx2, fma")
                && problem.contains("--cpu-profile x86-64-v2"),
            "{problem}"
        );
        assert_eq!(X86_64_V2.record().missing_on(&nehalem), None);
    }

    #[test]
    fn every_profile_keeps_float_rounding_inline_and_names_are_unique() {
        for profile in PROFILES {
            assert!(profile.has(SSE41), "{}", profile.name);
            assert_eq!(CpuProfile::by_name(profile.name), Ok(profile));
        }
        assert!(
            CpuProfile::by_name("v5")
                .unwrap_err()
                .contains("qemu-max, x86-64-v2")
        );
    }

    #[test]
    fn byte_shuffles_need_ssse3() {
        let shuffles = WasmUses {
            byte_shuffles: true,
            float_rounding: true,
        };
        assert_eq!(unreachable_libcalls(&X86_64_V2, &shuffles).len(), 0);
        let why = unreachable_libcalls(&SSE41_ONLY, &shuffles);
        assert_eq!(why.len(), 1);
        assert!(why[0].contains("SSSE3"));
    }
}
