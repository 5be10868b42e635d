//! Measurement modes and units: what a number means depends on how it was
//! produced, so every table and figure names the mode, and conversions from
//! cycles to nanoseconds go through here.

use std::fmt;

/// How the kernel was run, as declared by the launcher in
/// `Header.config.mode`. Numbers from different modes are never comparable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// QEMU TCG in real time: cycles are emulation cost, not hardware cost.
    Tcg,
    /// QEMU `-icount`: one TSC tick per guest instruction, bit-identical
    /// across boots; exception delivery and `iretq` cost nothing.
    Icount,
    Kvm,
    BareMetal,
    /// A Linux peer run directly on the host machine (no VM): TSC cycles of
    /// the host CPU. Peers in a VM declare their QEMU mode instead.
    Host,
    /// A mode string this analyzer does not know; shown verbatim.
    Other(String),
    /// No header, so no declared mode.
    Unknown,
}

impl Mode {
    pub fn parse(s: &str) -> Mode {
        match s {
            "tcg" => Mode::Tcg,
            "icount" => Mode::Icount,
            "kvm" => Mode::Kvm,
            "bare-metal" => Mode::BareMetal,
            "host" => Mode::Host,
            other => Mode::Other(other.to_string()),
        }
    }

    /// The short name used in file names, CSV and JSON.
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Tcg => "tcg",
            Mode::Icount => "icount",
            Mode::Kvm => "kvm",
            Mode::BareMetal => "bare-metal",
            Mode::Host => "host",
            Mode::Other(s) => s,
            Mode::Unknown => "unknown",
        }
    }

    /// The caption shown with every table and figure: the mode plus what its
    /// numbers do and do not mean.
    pub fn caption(&self) -> String {
        match self {
            Mode::Tcg => "TCG real time (emulation cost, not hardware cost)".to_string(),
            Mode::Icount => {
                "icount (deterministic; guest instructions, exception delivery not counted)"
                    .to_string()
            }
            Mode::Kvm => "KVM (hardware virtualization)".to_string(),
            Mode::BareMetal => "bare metal".to_string(),
            Mode::Host => {
                "host (Linux directly on the host machine, no VM: host CPU cycles)".to_string()
            }
            Mode::Other(s) => format!("{s} (unknown mode)"),
            Mode::Unknown => "unknown (header lost)".to_string(),
        }
    }

    /// Repeated runs produce identical samples, so there is no sampling
    /// noise between runs to estimate.
    pub fn is_deterministic(&self) -> bool {
        matches!(self, Mode::Icount)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unit numbers are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Cycles,
    Ns,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Cycles => "cycles",
            Unit::Ns => "ns",
        }
    }

    /// Factor that turns cycles into this unit, given the TSC frequency.
    pub fn scale(self, tsc_hz: Option<u64>) -> Result<f64, UnitError> {
        match self {
            Unit::Cycles => Ok(1.0),
            Unit::Ns => match tsc_hz {
                Some(hz) if hz > 0 => Ok(1e9 / hz as f64),
                _ => Err(UnitError::NoTscFrequency),
            },
        }
    }

    /// Render a value already in this unit: cycles are integers, ns get one
    /// decimal (sub-ns precision is below what a TSC stamp resolves anyway at
    /// GHz rates).
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Cycles => format!("{}", v.round() as i64),
            Unit::Ns => format!("{v:.1}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error(
        "cannot show ns: the run has no TSC frequency (header lost or tsc.hz = 0); use --unit cycles"
    )]
    NoTscFrequency,
}

/// `2.000 GHz`-style rendering of a frequency for captions.
pub fn format_hz(hz: u64) -> String {
    if hz >= 1_000_000_000 {
        format!("{:.3} GHz", hz as f64 / 1e9)
    } else {
        format!("{:.1} MHz", hz as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_modes_round_trip_and_only_icount_is_deterministic() {
        for m in ["tcg", "icount", "kvm", "bare-metal", "host"] {
            assert_eq!(Mode::parse(m).as_str(), m);
        }
        assert!(Mode::parse("icount").is_deterministic());
        assert!(!Mode::parse("tcg").is_deterministic());
        assert_eq!(Mode::parse("weird"), Mode::Other("weird".into()));
    }

    #[test]
    fn ns_needs_a_tsc_frequency() {
        assert_eq!(Unit::Ns.scale(Some(2_000_000_000)), Ok(0.5));
        assert_eq!(Unit::Ns.scale(None), Err(UnitError::NoTscFrequency));
        assert_eq!(Unit::Ns.scale(Some(0)), Err(UnitError::NoTscFrequency));
        assert_eq!(Unit::Cycles.scale(None), Ok(1.0));
    }
}
