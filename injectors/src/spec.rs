//! The campaign spec: what a user writes (TOML on the host; the suite image
//! carries it as JSON to the kernel).
//!
//! ```toml
//! name = "default"
//! seed = 1
//! count = 10000
//! targets = ["compute.sieve", "compute.divmix"]
//! args = { "compute.sieve" = [20000, 0] }
//!
//! [[injectors]]
//! kind = "page_revoke"
//! trigger = "sync"
//!
//! [[injectors]]
//! kind = "bit_flip_register"
//! trigger = "async"
//! weight = 2
//! ```

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};
use core::fmt;

use serde::{Deserialize, Serialize};

use traplab_wire::config;
pub use traplab_wire::{InjectorKind, Trigger};

use crate::machine::Register;

/// A whole campaign.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    pub name: String,
    /// With the injection index, seeds every random choice.
    pub seed: u64,
    /// Injections in the campaign.
    pub count: u32,
    /// Workloads (suite names, e.g. `compute.sieve`) to inject into.
    pub targets: Vec<String>,
    pub injectors: Vec<InjectorSpec>,
    /// Engine configuration label the targets run under.
    #[serde(default = "default_config")]
    pub config: String,
    /// A call running longer than this many times its clean duration is
    /// stopped by the watchdog and counted as a hang.
    #[serde(default = "default_watchdog_factor")]
    pub watchdog_factor: u32,
    /// Sync trigger: the number of clean calls before the injection is
    /// drawn from `0..sync_calls`.
    #[serde(default = "default_sync_calls")]
    pub sync_calls: u32,
    /// Per-target call arguments (default: the workload's suite
    /// arguments). Smaller problems make more injections per minute.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, [i32; 2]>,
    /// How each trial's observed call is fenced off from kernel memory
    /// beyond the trial stack and arena every campaign has. Left out of
    /// the manifest when `none`, so specs without it serialize as before.
    #[serde(default, skip_serializing_if = "Isolation::is_none")]
    pub isolation: Isolation,
}

/// Trial isolation: what keeps a wild write of the observed call (a store
/// through a flipped register) out of the kernel's memory.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// No more than every campaign has: the trial stack and the trial
    /// arena (`runner-kernel`'s `mm`).
    #[default]
    None,
    /// Supervisor protection keys: the kernel heap, the page-frame pool
    /// (page tables) and the kernel stack carry a key that is
    /// write-disabled while the observed call runs, so a store there
    /// faults (and is contained) instead of landing.
    Pks,
}

impl Isolation {
    pub fn is_none(&self) -> bool {
        *self == Isolation::None
    }
    pub fn name(self) -> &'static str {
        match self {
            Isolation::None => "none",
            Isolation::Pks => "pks",
        }
    }
}

/// One injector of a campaign and how it is triggered.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InjectorSpec {
    pub kind: InjectorKind,
    pub trigger: Trigger,
    /// Relative share of the campaign's injections (default 1).
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// `bit_flip_register` only: the registers it may flip. Default: every
    /// general-purpose register but `rsp` and `rbp` (see
    /// [`Register::DEFAULT_FLIP`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registers: Option<Vec<Register>>,
    /// The campaign targets this injector strikes (default: all of them);
    /// e.g. `divisor_zero` only where a divisor table is in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
}

/// Whether `kind` can fire on `trigger`: a register exists only in an
/// interrupted context, so `bit_flip_register` is async only.
pub fn supports(kind: InjectorKind, trigger: Trigger) -> bool {
    !(kind == InjectorKind::BitFlipRegister && trigger == Trigger::Sync)
}

fn default_config() -> String {
    config::SIGNALS_BT_OFF.to_string()
}
fn default_watchdog_factor() -> u32 {
    20
}
fn default_sync_calls() -> u32 {
    2
}
fn default_weight() -> u32 {
    1
}

/// A spec that cannot run, with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl CampaignSpec {
    /// Check what serde cannot: non-empty lists, usable numbers, injector
    /// and trigger pairs that exist.
    pub fn validate(&self) -> Result<(), SpecError> {
        let err = |m: String| Err(SpecError(m));
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return err(format!(
                "name {:?}: use letters, digits, '-' and '_' only",
                self.name
            ));
        }
        if self.count == 0 {
            return err("count: must be at least 1".to_string());
        }
        if self.targets.is_empty() {
            return err("targets: name at least one workload".to_string());
        }
        if self.injectors.is_empty() {
            return err("injectors: list at least one injector".to_string());
        }
        if self.watchdog_factor < 2 {
            return err(format!(
                "watchdog_factor {}: must be at least 2",
                self.watchdog_factor
            ));
        }
        if self.sync_calls == 0 {
            return err("sync_calls: must be at least 1".to_string());
        }
        if let Some(name) = self.args.keys().find(|name| !self.targets.contains(name)) {
            return err(format!("args.{name}: not one of the targets"));
        }
        for (i, injector) in self.injectors.iter().enumerate() {
            if !supports(injector.kind, injector.trigger) {
                return err(format!(
                    "injectors[{i}]: {} needs an interrupted context; use trigger = \"async\"",
                    injector.kind.name()
                ));
            }
            if injector.weight == 0 {
                return err(format!("injectors[{i}]: weight must be at least 1"));
            }
            if let Some(targets) = &injector.targets {
                if targets.is_empty() {
                    return err(format!("injectors[{i}]: `targets` is empty"));
                }
                if let Some(t) = targets.iter().find(|t| !self.targets.contains(t)) {
                    return err(format!(
                        "injectors[{i}]: target {t:?} is not one of the campaign's targets"
                    ));
                }
            }
            match (&injector.registers, injector.kind) {
                (Some(_), kind) if kind != InjectorKind::BitFlipRegister => {
                    return err(format!(
                        "injectors[{i}]: `registers` applies to bit_flip_register only"
                    ));
                }
                (Some(list), _) if list.is_empty() => {
                    return err(format!("injectors[{i}]: `registers` is empty"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Indices into `targets` of the targets `injectors[i]` strikes.
    pub fn targets_of(&self, i: usize) -> Vec<usize> {
        match &self.injectors[i].targets {
            None => (0..self.targets.len()).collect(),
            Some(names) => (0..self.targets.len())
                .filter(|&t| names.contains(&self.targets[t]))
                .collect(),
        }
    }

    /// The registers `injectors[i]` may flip.
    pub fn registers(&self, i: usize) -> Vec<Register> {
        self.injectors[i]
            .registers
            .clone()
            .unwrap_or_else(|| Register::DEFAULT_FLIP.to_vec())
    }

    /// A small campaign for tests: every injector, both triggers where
    /// possible, against `targets`.
    pub fn every_injector(name: &str, seed: u64, count: u32, targets: Vec<String>) -> CampaignSpec {
        let mut injectors = vec![];
        for kind in InjectorKind::ALL {
            for trigger in [Trigger::Sync, Trigger::Async] {
                if supports(kind, trigger) {
                    injectors.push(InjectorSpec {
                        kind,
                        trigger,
                        weight: 1,
                        registers: None,
                        targets: None,
                    });
                }
            }
        }
        CampaignSpec {
            name: name.to_string(),
            seed,
            count,
            targets,
            injectors,
            config: default_config(),
            watchdog_factor: default_watchdog_factor(),
            sync_calls: default_sync_calls(),
            args: BTreeMap::new(),
            isolation: Isolation::None,
        }
    }
}
