//! Zero an entry of the target's divisor table: the next division by it
//! raises #DE (`div`/`idiv` in signals-based code) or takes the explicit
//! zero check (#UD at its `ud2`) — either way a trap wasmtime claims.

use crate::{Injector, InjectorKind, Machine, Refused, Site, TargetFacts, pick};

#[derive(Default)]
pub struct DivisorZero {
    site: Option<u64>,
}

impl Injector for DivisorZero {
    fn kind(&self) -> InjectorKind {
        InjectorKind::DivisorZero
    }
    fn arm(&mut self, target: &TargetFacts<'_>, rng: &mut oorandom::Rand64) -> Option<Site> {
        let (table, count) = target.divisors.filter(|&(_, n)| n > 0)?;
        let index = pick(rng, count as usize) as u32;
        let offset = table + 4 * u64::from(index);
        self.site = Some(offset);
        Some(Site::Divisor { offset, index })
    }
    fn fire(&mut self, machine: &mut dyn Machine) -> Result<(), Refused> {
        let offset = self.site.ok_or(Refused("not armed"))?;
        machine.write_memory(offset, &0u32.to_le_bytes())
    }
    /// The instance is discarded after every trial; nothing to undo.
    fn disarm(&mut self, _: &mut dyn Machine) {}
}
