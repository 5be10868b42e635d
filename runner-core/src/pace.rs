//! How many iterations an experiment runs, when it stops early, and what
//! the host hears while it runs.
//!
//! Fast experiments (calls, traps: microseconds per iteration) run their
//! `warmup` + `samples` iterations. Slow ones (compute kernels, sightglass
//! benchmarks: a sightglass module can take tens of seconds per call under
//! TCG) take at most `compute_samples` and never more than `samples`, with a
//! warm-up of at most 3 and never more than their timed samples, so
//! `samples=1` means one warm-up and one timed call of every workload.
//!
//! A time budget (`budget_ms=`) bounds any experiment: once it is spent,
//! the experiment ends after the iteration in progress — skipping what is
//! left of its warm-up — but never before one timed sample, so a budget
//! too small for the workload still measures it once. The budget is read
//! on the platform's clock, so under QEMU's `-icount` it is virtual time
//! and a deterministic run stays byte-identical.
//!
//! [`Pace`] also writes the `progress` records the host's live line shows
//! (experiment, configuration, iterations done): one when the experiment
//! starts, then at most about one a second of the platform's clock.

use alloc::format;
use alloc::string::{String, ToString};

use traplab_suite::WorkloadKind;
use traplab_wire::{Progress, Record};

use crate::{Options, Platform};

/// Warm-up calls of a slow experiment, at most.
const SLOW_WARMUP: u32 = 3;

/// `(warm-up iterations, timed samples)` planned for a workload of `kind`.
pub fn iterations(kind: WorkloadKind, opts: &Options) -> (u32, u32) {
    match kind {
        WorkloadKind::Compute | WorkloadKind::Sightglass => {
            let samples = opts.compute_samples.min(opts.samples);
            (opts.warmup.min(SLOW_WARMUP).min(samples), samples)
        }
        WorkloadKind::Call | WorkloadKind::Trap => (opts.warmup, opts.samples),
    }
}

/// What the next iteration is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iteration {
    /// An untimed warm-up call; its index counts every iteration so far.
    Warmup(u32),
    /// A timed sample.
    Timed(u32),
}

impl Iteration {
    /// The iteration's index among all of the experiment's iterations (for
    /// messages: "iteration 3: …").
    pub fn index(self) -> u32 {
        match self {
            Iteration::Warmup(i) | Iteration::Timed(i) => i,
        }
    }
}

/// The iterations of one experiment under one configuration.
pub struct Pace<'a, P: Platform> {
    p: &'a P,
    experiment: &'a str,
    config: &'a str,
    warmup: u32,
    samples: u32,
    warmed: u32,
    timed: u32,
    started: u64,
    budget_ms: u64,
    /// Budget in clock ticks, 0 = none.
    budget: u64,
    /// Ticks between progress records.
    report_every: u64,
    last_report: u64,
    stopped_early: bool,
}

impl<'a, P: Platform> Pace<'a, P> {
    /// Plan the experiment and tell the host it starts.
    pub fn start(
        p: &'a P,
        experiment: &'a str,
        config: &'a str,
        kind: WorkloadKind,
        opts: &Options,
    ) -> Self {
        let (warmup, samples) = iterations(kind, opts);
        let hz = p.tsc_hz().max(1);
        let budget = (u128::from(opts.budget_ms) * u128::from(hz) / 1000) as u64;
        let started = P::stamp();
        let pace = Pace {
            p,
            experiment,
            config,
            warmup,
            samples,
            warmed: 0,
            timed: 0,
            started,
            budget_ms: opts.budget_ms,
            budget,
            report_every: hz,
            last_report: started,
            stopped_early: false,
        };
        pace.report();
        pace
    }

    /// Timed samples planned (the capacity to reserve).
    pub fn samples(&self) -> u32 {
        self.samples
    }

    fn report(&self) {
        self.p.emit(Record::Progress(Progress {
            experiment: self.experiment.to_string(),
            config: self.config.to_string(),
            done: self.warmed + self.timed,
            planned: self.warmup + self.samples,
        }));
    }

    /// The next iteration to run, or `None` when the experiment is done:
    /// every planned iteration ran, or the budget is spent and a timed
    /// sample was taken.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Iteration> {
        let now = P::stamp();
        let elapsed = now.wrapping_sub(self.started);
        let done = self.warmed + self.timed;
        if done > 0 && now.wrapping_sub(self.last_report) >= self.report_every {
            self.report();
            self.last_report = now;
        }
        if self.budget != 0 && elapsed >= self.budget {
            if self.timed > 0 {
                self.stopped_early = self.timed < self.samples;
                return None;
            }
            // Out of time in the warm-up: go straight to the one sample.
            self.warmed = self.warmup;
        }
        if self.warmed < self.warmup {
            self.warmed += 1;
            return Some(Iteration::Warmup(done));
        }
        if self.timed < self.samples {
            self.timed += 1;
            return Some(Iteration::Timed(done));
        }
        None
    }

    /// A log line when the budget cut the experiment short (else `None`),
    /// naming how many samples it took of how many.
    pub fn finish(&self, samples_taken: usize) -> Option<String> {
        self.stopped_early.then(|| {
            format!(
                "{} {}: time budget of {} ms spent after {samples_taken} of {} timed samples",
                self.experiment, self.config, self.budget_ms, self.samples
            )
        })
    }
}
