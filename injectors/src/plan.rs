//! Which injector, target and trigger point injection `i` gets: a pure
//! function of the spec and `i`.

use oorandom::Rand64;

use crate::spec::{CampaignSpec, Trigger};

/// One injection of a campaign, before the kernel looks at the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub index: u32,
    /// Index into `spec.injectors`.
    pub injector: usize,
    /// Index into `spec.targets`.
    pub target: usize,
    pub point: TriggerPoint,
}

/// When the trigger goes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerPoint {
    /// After this many clean calls on the fresh instance.
    AfterCalls(u32),
    /// This far into the observed call, in millionths of the target's
    /// clean call duration (the kernel scales it to TSC cycles).
    IntoCall { ppm: u32 },
}

impl TriggerPoint {
    pub fn trigger(self) -> Trigger {
        match self {
            TriggerPoint::AfterCalls(_) => Trigger::Sync,
            TriggerPoint::IntoCall { .. } => Trigger::Async,
        }
    }
}

/// The random stream of injection `index`: PCG seeded with the campaign
/// seed and the index, so every injection can be replayed alone.
pub fn rng(seed: u64, index: u32) -> Rand64 {
    // Distinct 128-bit states per (seed, index); PCG's output function
    // decorrelates neighbouring states.
    Rand64::new(((seed as u128) << 64) | (u128::from(index) << 1) | 1)
}

/// Plan injection `index` of `spec` (which must be valid). The injector
/// and target go round-robin through every (injector, target) pair —
/// each injector with the targets it strikes, repeated by its weight — so
/// a campaign of `count` injections covers them evenly; the trigger point
/// comes from the injection's own random stream. Returns the stream,
/// positioned after the draws made here, for the injector's site choice.
pub fn plan(spec: &CampaignSpec, index: u32) -> (Planned, Rand64) {
    let pairs: u64 = (0..spec.injectors.len())
        .map(|i| u64::from(spec.injectors[i].weight) * spec.targets_of(i).len() as u64)
        .sum();
    let mut slot = u64::from(index) % pairs;
    let (mut injector, mut target) = (0, 0);
    for i in 0..spec.injectors.len() {
        let targets = spec.targets_of(i);
        let share = u64::from(spec.injectors[i].weight) * targets.len() as u64;
        if slot < share {
            injector = i;
            target = targets[(slot % targets.len() as u64) as usize];
            break;
        }
        slot -= share;
    }
    let mut rng = rng(spec.seed, index);
    let point = match spec.injectors[injector].trigger {
        Trigger::Sync => {
            TriggerPoint::AfterCalls(rng.rand_range(0..u64::from(spec.sync_calls)) as u32)
        }
        // Not the very start or end: a deadline at 0 would fire before
        // wasm runs, one near the end after it returned.
        Trigger::Async => TriggerPoint::IntoCall {
            ppm: rng.rand_range(20_000..980_000) as u32,
        },
    };
    (
        Planned {
            index,
            injector,
            target,
            point,
        },
        rng,
    )
}
