//! Overwrite one instruction of the module's compiled code with `ud2`.
//! wasmtime registered no trap code at that PC, so it does not claim the
//! #UD: the kernel must contain it. The code is shared by every instance
//! of the module, so disarming restores the original bytes.

use crate::{Injector, InjectorKind, Machine, Refused, Site, TargetFacts, pick};

/// `ud2`.
pub const UD2: [u8; 2] = [0x0F, 0x0B];

#[derive(Default)]
pub struct CodePatch {
    site: Option<u64>,
    saved: Option<[u8; 2]>,
}

impl Injector for CodePatch {
    fn kind(&self) -> InjectorKind {
        InjectorKind::CodePatch
    }
    fn arm(&mut self, target: &TargetFacts<'_>, rng: &mut oorandom::Rand64) -> Option<Site> {
        if target.code_sites.is_empty() {
            return None;
        }
        let offset = target.code_sites[pick(rng, target.code_sites.len())];
        self.site = Some(offset);
        self.saved = None;
        Some(Site::Code { offset })
    }
    fn fire(&mut self, machine: &mut dyn Machine) -> Result<(), Refused> {
        let offset = self.site.ok_or(Refused("not armed"))?;
        let mut old = [0u8; 2];
        machine.patch_code(offset, &UD2, &mut old)?;
        self.saved = Some(old);
        Ok(())
    }
    fn disarm(&mut self, machine: &mut dyn Machine) {
        if let (Some(offset), Some(old)) = (self.site, self.saved.take()) {
            let mut patched = [0u8; 2];
            // Restoring bytes the kernel itself wrote cannot be refused.
            let _ = machine.patch_code(offset, &old, &mut patched);
        }
    }
}
