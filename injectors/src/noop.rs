//! The baseline injector: arms, fires and disarms without touching
//! anything. A campaign of it must end `masked` every time; anything else
//! means the harness itself disturbs the workload.

use crate::{Injector, InjectorKind, Machine, Refused, Site, TargetFacts};

pub struct Noop;

impl Injector for Noop {
    fn kind(&self) -> InjectorKind {
        InjectorKind::Noop
    }
    fn arm(&mut self, _: &TargetFacts<'_>, _: &mut oorandom::Rand64) -> Option<Site> {
        Some(Site::Nothing)
    }
    fn fire(&mut self, _: &mut dyn Machine) -> Result<(), Refused> {
        Ok(())
    }
    fn disarm(&mut self, _: &mut dyn Machine) {}
}
