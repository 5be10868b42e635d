//! Flip one bit — of linear memory the workload uses, or of a register of
//! the interrupted wasm code — and see what follows: usually nothing
//! (masked), sometimes a wrong result, a trap, or a fault the kernel must
//! contain.

use crate::{Injector, InjectorKind, Machine, Refused, Register, Site, TargetFacts, pick};

#[derive(Default)]
pub struct BitFlipMemory {
    site: Option<(u64, u8)>,
}

impl Injector for BitFlipMemory {
    fn kind(&self) -> InjectorKind {
        InjectorKind::BitFlipMemory
    }
    fn arm(&mut self, target: &TargetFacts<'_>, rng: &mut oorandom::Rand64) -> Option<Site> {
        if target.touched_pages.is_empty() {
            return None;
        }
        let page = target.touched_pages[pick(rng, target.touched_pages.len())];
        let offset = page + rng.rand_range(0..4096);
        let bit = rng.rand_range(0..8) as u8;
        self.site = Some((offset, bit));
        Some(Site::MemoryBit { offset, bit })
    }
    fn fire(&mut self, machine: &mut dyn Machine) -> Result<(), Refused> {
        let (offset, bit) = self.site.ok_or(Refused("not armed"))?;
        let mut byte = [0u8];
        machine.read_memory(offset, &mut byte)?;
        byte[0] ^= 1 << bit;
        machine.write_memory(offset, &byte)
    }
    /// The instance is discarded after every trial; nothing to undo.
    fn disarm(&mut self, _: &mut dyn Machine) {}
}

#[derive(Default)]
pub struct BitFlipRegister {
    site: Option<(Register, u8)>,
}

impl Injector for BitFlipRegister {
    fn kind(&self) -> InjectorKind {
        InjectorKind::BitFlipRegister
    }
    fn arm(&mut self, target: &TargetFacts<'_>, rng: &mut oorandom::Rand64) -> Option<Site> {
        if target.registers.is_empty() {
            return None;
        }
        let register = target.registers[pick(rng, target.registers.len())];
        let bit = rng.rand_range(0..64) as u8;
        self.site = Some((register, bit));
        Some(Site::RegisterBit { register, bit })
    }
    fn fire(&mut self, machine: &mut dyn Machine) -> Result<(), Refused> {
        let (register, bit) = self.site.ok_or(Refused("not armed"))?;
        machine.flip_register(register, bit)
    }
    /// The flipped register belonged to the interrupted call; nothing to
    /// undo.
    fn disarm(&mut self, _: &mut dyn Machine) {}
}
