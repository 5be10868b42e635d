//! The records an experiment produces: its samples in batches, its
//! verdict, and named metrics. Nothing is written while timing, so the
//! byte sink never perturbs a sample.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use traplab_wire::{
    ExperimentResult, MAX_BATCH, Metric, Record, Samples, Stage, Stamp, Status, TrapSignature, Unit,
};

use crate::Platform;

/// Samples of one experiment under one configuration.
pub struct Series {
    pub total: Vec<u64>,
    /// The stage values, when the samples went through the exception path.
    pub stages: Option<Stages>,
}

/// Stage values of a series: one list per interval between consecutive
/// stamps the platform took. Kept in fixed arrays, so a series allocates
/// exactly its value lists: the trap path's own allocations then meet the
/// same heap whatever the platform (its cost in wasmtime depends on it).
pub struct Stages {
    /// The stamps, in order (`Call` first, `Return` last); `len` are used.
    order: [Stamp; Stamp::ALL.len()],
    len: usize,
    /// `values[k]`: the interval from `order[k]` to `order[k + 1]`.
    values: [Vec<u64>; Stamp::ALL.len() - 1],
}

impl Stages {
    /// How many stages there are.
    pub fn count(&self) -> usize {
        self.len - 1
    }

    /// Record one sample from its stamps (as many as the order has).
    pub fn push(&mut self, stamps: &[u64]) {
        for (k, values) in self.values[..self.len - 1].iter_mut().enumerate() {
            values.push(stamps[k + 1] - stamps[k]);
        }
    }

    /// `(stage name, values)` in order.
    pub fn iter(&self) -> impl Iterator<Item = (String, &Vec<u64>)> {
        self.order[..self.len]
            .windows(2)
            .zip(&self.values)
            .map(|(w, values)| (Stamp::stage(w[0], w[1]), values))
    }
}

impl Series {
    /// A series without stages.
    pub fn plain(n: usize) -> Series {
        Series {
            total: Vec::with_capacity(n),
            stages: None,
        }
    }

    /// A series whose samples are split at `stamps` (in order, `Call` and
    /// `Return` included, at most [`Stamp::ALL`]): one stage per
    /// consecutive pair.
    pub fn staged(n: usize, stamps: &[Stamp]) -> Series {
        let mut order = Stamp::ALL;
        order[..stamps.len()].copy_from_slice(stamps);
        Series {
            total: Vec::with_capacity(n),
            stages: Some(Stages {
                order,
                len: stamps.len(),
                values: core::array::from_fn(|k| {
                    if k + 1 < stamps.len() {
                        Vec::with_capacity(n)
                    } else {
                        Vec::new()
                    }
                }),
            }),
        }
    }
}

/// Write `series` as `samples` records of at most [`MAX_BATCH`] values.
pub fn series<P: Platform>(p: &P, experiment: &str, config: &str, series: &Series) {
    for (batch, chunk) in series.total.chunks(MAX_BATCH).enumerate() {
        let first = batch * MAX_BATCH;
        let stages = series.stages.as_ref().map_or_else(Vec::new, |stages| {
            stages
                .iter()
                .map(|(name, values)| Stage {
                    name,
                    values: values[first..first + chunk.len()].to_vec(),
                })
                .collect()
        });
        p.emit(Record::Samples(Samples {
            experiment: experiment.to_string(),
            config: config.to_string(),
            unit: Unit::Cycles,
            first: first as u32,
            total: chunk.to_vec(),
            stages,
        }));
    }
}

/// Write the verdict of one experiment: failed when `failure` says why.
pub fn result<P: Platform>(
    p: &P,
    experiment: &str,
    config: &str,
    samples: usize,
    expected: Option<TrapSignature>,
    observed: Option<TrapSignature>,
    failure: Option<String>,
) {
    p.emit(Record::Result(ExperimentResult {
        experiment: experiment.to_string(),
        config: config.to_string(),
        status: if failure.is_some() {
            Status::Failed
        } else {
            Status::Ok
        },
        samples: samples as u32,
        expected,
        observed,
        message: failure,
    }));
}

pub fn metric<P: Platform>(p: &P, name: &str, value: u64, unit: &str, context: &str) {
    p.emit(Record::Metric(Metric {
        name: name.to_string(),
        value,
        unit: unit.to_string(),
        context: context.to_string(),
    }));
}

/// Fixed cost of one stamp: the median difference of back-to-back stamps.
pub fn stamp_overhead<P: Platform>(p: &P) -> u64 {
    const PAIRS: usize = 1001;
    let mut diffs = Vec::with_capacity(PAIRS);
    let were = p.mask_interrupts();
    for _ in 0..PAIRS {
        let a = P::stamp();
        let b = P::stamp();
        diffs.push(b - a);
    }
    p.restore_interrupts(were);
    diffs.sort_unstable();
    diffs[PAIRS / 2]
}
