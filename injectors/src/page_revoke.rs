//! Revoke a page of linear memory the workload uses: its next access
//! raises #PF — inside wasm code at a trap site (wasmtime reports an
//! out-of-bounds access), or inside a runtime routine working on the
//! instance's memory (the kernel contains it).

use crate::{Injector, InjectorKind, Machine, Refused, Site, TargetFacts, pick};

#[derive(Default)]
pub struct PageRevoke {
    page: Option<u64>,
    revoked: bool,
}

impl Injector for PageRevoke {
    fn kind(&self) -> InjectorKind {
        InjectorKind::PageRevoke
    }
    fn arm(&mut self, target: &TargetFacts<'_>, rng: &mut oorandom::Rand64) -> Option<Site> {
        if target.touched_pages.is_empty() {
            return None;
        }
        let offset = target.touched_pages[pick(rng, target.touched_pages.len())];
        self.page = Some(offset);
        self.revoked = false;
        Some(Site::Page { offset })
    }
    fn fire(&mut self, machine: &mut dyn Machine) -> Result<(), Refused> {
        let offset = self.page.ok_or(Refused("not armed"))?;
        machine.revoke_page(offset)?;
        self.revoked = true;
        Ok(())
    }
    fn disarm(&mut self, machine: &mut dyn Machine) {
        if let (Some(offset), true) = (self.page, self.revoked) {
            machine.restore_page(offset);
            self.revoked = false;
        }
    }
}
