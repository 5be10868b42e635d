//! Pure statistics: distribution summaries (HdrHistogram percentiles), the
//! ratio of medians with a bootstrap confidence interval, the four-way
//! comparison verdict, and step (change-point) detection for histories.
//!
//! No I/O and no knowledge of runs or records; everything here takes slices
//! and returns numbers, so it is tested in isolation.
//!
//! # Methods
//!
//! **Percentiles** come from an HdrHistogram with 4 significant digits:
//! values below 32,768 are exact, larger ones carry at most 0.01 % relative
//! error. A percentile is reported as the highest value equivalent to the
//! histogram bucket, clamped to the exact `[min, max]` (so a constant sample
//! prints one number everywhere). `min`, `max`, `mean` and `MAD` are exact.
//! [`Quantiles`] is the one definition: tables (`summary`, `jit`,
//! `campaign`, `peers`) and figures (`plot`) all read their p-values from
//! it, so a figure's p50 is its table's p50.
//! `MAD` is the unscaled median absolute deviation from the median.
//!
//! **Comparison** uses the ratio of medians `r = median(cand) / median(base)`
//! and a percentile-bootstrap confidence interval for it (Efron & Tibshirani,
//! 1993, ch. 13). Drawing a bootstrap resample's median does not need the
//! resample: for `n` sorted values, the median of `n` draws with replacement
//! is the value at index `⌊n·U⌋`, where `U` is the median order statistic of
//! `n` uniforms, which is `Beta((n+1)/2, (n+1)/2)`-distributed. Sampling `U`
//! directly gives the exact bootstrap distribution of the median in O(1) per
//! resample, so 10,000 resamples of a million-sample run cost milliseconds.
//! The generator is seeded with a fixed constant, so the same data always
//! gives the same interval (tables and snapshots are reproducible).
//!
//! In a deterministic mode (icount) repeated runs are bit-identical, so there
//! is no run-to-run sampling noise to estimate; the interval is the point
//! ratio with zero width.
//!
//! **Verdict** (an equivalence test in the spirit of TOST): with threshold
//! `t`, `regressed` when the whole interval lies above `1 + t`, `improved`
//! when it lies below `1 − t`, `unchanged` when it lies inside
//! `[1 − t, 1 + t]`, and `unsure` otherwise — the data cannot tell a change
//! beyond the threshold from noise.
//!
//! **Change points** use binary segmentation on the logarithm of one level per
//! commit: split where the sum of squared deviations drops most, keep the
//! split when the medians on either side differ by at least the threshold and
//! by more than three robust standard deviations of the within-segment
//! residuals, and recurse.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Summary of one sample series, in the unit of the input (cycles).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    pub n: usize,
    pub min: u64,
    pub max: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
}

/// Significant digits of the percentile histogram; see the module docs.
const HISTOGRAM_SIGFIG: u8 = 4;

/// Largest value the histogram can hold; HdrHistogram refuses values above
/// `u64::MAX / 2`. Only a corrupt or absurd sample gets near it; it still
/// counts (clamped) in the percentiles and exactly in `max`.
const HISTOGRAM_CEILING: u64 = u64::MAX / 4;

/// The quantiles of one series: the one quantile definition of every
/// table and figure.
///
/// Why HdrHistogram's value (nearest rank, `⌈q·n⌉`-th smallest, reported
/// as the highest value of its bucket, clamped to the exact `[min, max]`)
/// rather than an exact order statistic over sorted raw samples: the
/// tables always used it, and its numbers are what `results/` baselines,
/// `compare`, `history` and snapshots hold, so choosing it changes no
/// published table; below 32,768 it *is* the exact nearest-rank value, and
/// above it differs by at most 0.01 %, far below a pixel; and it takes one
/// O(n) pass with no copy or sort of a million-sample series. Figures used
/// exact nearest rank before, so a figure's p50 could differ from its
/// table's by a bucket; now both come from here.
#[derive(Debug, Clone)]
pub struct Quantiles {
    h: Histogram<u64>,
    min: u64,
    max: u64,
}

impl Quantiles {
    /// `None` for an empty series.
    pub fn of(values: &[u64]) -> Option<Quantiles> {
        if values.is_empty() {
            return None;
        }
        let mut h = Histogram::<u64>::new(HISTOGRAM_SIGFIG)
            .expect("4 significant digits is a valid precision");
        let (mut min, mut max) = (u64::MAX, 0u64);
        for &v in values {
            min = min.min(v);
            max = max.max(v);
            // Auto-resizing histograms only fail above their hard ceiling.
            let _ = h.record(v.min(HISTOGRAM_CEILING));
        }
        Some(Quantiles { h, min, max })
    }

    /// The `q`-quantile, `q` in [0, 1].
    pub fn at(&self, q: f64) -> u64 {
        self.h
            .value_at_quantile(q.clamp(0.0, 1.0))
            .clamp(self.min, self.max)
    }

    pub fn min(&self) -> u64 {
        self.min
    }

    pub fn max(&self) -> u64 {
        self.max
    }
}

/// Summarize `values`; `None` for an empty series.
pub fn describe(values: &[u64]) -> Option<Distribution> {
    let q = Quantiles::of(values)?;
    let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
    let median = median(values);
    let deviations: Vec<f64> = values.iter().map(|&v| (v as f64 - median).abs()).collect();
    Some(Distribution {
        n: values.len(),
        min: q.min(),
        max: q.max(),
        mean: sum as f64 / values.len() as f64,
        p50: q.at(0.50),
        p90: q.at(0.90),
        p99: q.at(0.99),
        p999: q.at(0.999),
        mad: median_f64(deviations),
    })
}

/// Exact median (mean of the two middle values for even `n`); NaN when empty.
pub fn median(values: &[u64]) -> f64 {
    median_f64(values.iter().map(|&v| v as f64).collect())
}

fn median_f64(mut v: Vec<f64>) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (lower, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if n % 2 == 1 {
        m
    } else {
        let below = lower.iter().copied().max_by(f64::total_cmp).unwrap_or(m);
        (below + m) / 2.0
    }
}

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64. Implemented
/// here rather than taken from `rand` so that the bootstrap's numbers depend
/// on this file alone, not on a dependency's choice of algorithm: snapshots
/// and published intervals stay reproducible across upgrades.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in the open interval (0, 1): never 0, so `ln` is safe.
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Marsaglia's polar method; the second value of each
    /// pair is discarded for simplicity, costing one extra pair of uniforms).
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * s.ln() / s).sqrt();
            }
        }
    }

    /// Gamma(shape, 1) (Marsaglia & Tsang, 2000). Shapes below 1 use the
    /// boost `Gamma(a) = Gamma(a + 1) · U^(1/a)`.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let u = self.uniform();
            return self.gamma(shape + 1.0) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u < 1.0 - 0.0331 * x * x * x * x || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
                return d * v;
            }
        }
    }

    /// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}

/// Seed of the bootstrap generator ("traplab" in ASCII). Fixed so the same
/// inputs always produce the same interval.
pub const BOOTSTRAP_SEED: u64 = 0x0074_7261_706c_6162;

/// Resamples per interval. With 10,000 the Monte-Carlo error of a 99 %
/// percentile bound is well under 0.1 % of the ratio for typical data.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;

/// How the interval was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// Percentile bootstrap of the ratio of medians.
    Bootstrap,
    /// Deterministic mode: the point ratio, zero width.
    Exact,
}

/// A ratio of medians with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatioInterval {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
    pub method: IntervalMethod,
}

/// Ratio of medians `median(cand) / median(base)` with a `confidence`
/// interval; see the module docs for the method. `None` when either side is
/// empty.
pub fn ratio_of_medians(
    base: &[u64],
    cand: &[u64],
    confidence: f64,
    method: IntervalMethod,
    resamples: usize,
    seed: u64,
) -> Option<RatioInterval> {
    if base.is_empty() || cand.is_empty() {
        return None;
    }
    let ratio = safe_ratio(median(cand), median(base));
    if method == IntervalMethod::Exact {
        return Some(RatioInterval {
            ratio,
            low: ratio,
            high: ratio,
            confidence,
            method,
        });
    }
    let mut b = base.to_vec();
    let mut c = cand.to_vec();
    b.sort_unstable();
    c.sort_unstable();
    let mut rng = Rng::new(seed);
    let mut draws: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            safe_ratio(
                bootstrap_median(&c, &mut rng),
                bootstrap_median(&b, &mut rng),
            )
        })
        .collect();
    draws.sort_unstable_by(f64::total_cmp);
    let alpha = (1.0 - confidence).clamp(0.0, 1.0);
    let pick = |q: f64| {
        let idx = (q * (draws.len() - 1) as f64).round() as usize;
        draws[idx.min(draws.len() - 1)]
    };
    Some(RatioInterval {
        ratio,
        low: pick(alpha / 2.0),
        high: pick(1.0 - alpha / 2.0),
        confidence,
        method,
    })
}

/// One bootstrap replicate of the median of `sorted` (see module docs).
fn bootstrap_median(sorted: &[u64], rng: &mut Rng) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0] as f64;
    }
    let k = (n as f64 + 1.0) / 2.0;
    let u = rng.beta(k, k);
    let idx = ((n as f64 * u) as usize).min(n - 1);
    sorted[idx] as f64
}

/// `num / den` with the conventions a latency ratio needs: 0/0 is "no
/// change" and x/0 is "infinitely slower".
fn safe_ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        if num == 0.0 { 1.0 } else { f64::INFINITY }
    } else {
        num / den
    }
}

/// Outcome of comparing one experiment between two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regressed,
    Improved,
    Unchanged,
    Unsure,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Unsure => "unsure",
        }
    }
}

/// The verdict for an interval and a threshold given as a fraction (0.05 =
/// 5 %); see the module docs.
pub fn verdict(ci: &RatioInterval, threshold: f64) -> Verdict {
    let (lo, hi) = (1.0 - threshold, 1.0 + threshold);
    if ci.low > hi {
        Verdict::Regressed
    } else if ci.high < lo {
        Verdict::Improved
    } else if ci.low >= lo && ci.high <= hi {
        Verdict::Unchanged
    } else {
        Verdict::Unsure
    }
}

/// Indices `i` (≥ 1) at which `levels[i..]` sits on a new level; see the
/// module docs. `levels` must be positive; `min_step` is a fraction.
pub fn change_points(levels: &[f64], min_step: f64) -> Vec<usize> {
    let logs: Vec<f64> = levels
        .iter()
        .map(|&v| v.max(f64::MIN_POSITIVE).ln())
        .collect();
    let mut found = Vec::new();
    segment(&logs, 0, logs.len(), (1.0 + min_step).ln(), &mut found);
    found.sort_unstable();
    found
}

fn segment(x: &[f64], a: usize, b: usize, min_log_step: f64, out: &mut Vec<usize>) {
    if b - a < 2 {
        return;
    }
    let cost = |s: &[f64]| {
        let m = s.iter().sum::<f64>() / s.len() as f64;
        s.iter().map(|v| (v - m) * (v - m)).sum::<f64>()
    };
    let whole = cost(&x[a..b]);
    let Some((split, _)) = (a + 1..b)
        .map(|s| (s, whole - cost(&x[a..s]) - cost(&x[s..b])))
        .max_by(|l, r| l.1.total_cmp(&r.1))
    else {
        return;
    };
    let left_med = median_f64(x[a..split].to_vec());
    let right_med = median_f64(x[split..b].to_vec());
    let step = (right_med - left_med).abs();
    // Robust noise: MAD of residuals around each side's median, scaled by
    // 1.4826 to estimate a normal standard deviation.
    let residuals: Vec<f64> = x[a..split]
        .iter()
        .map(|v| (v - left_med).abs())
        .chain(x[split..b].iter().map(|v| (v - right_med).abs()))
        .collect();
    let sigma = 1.4826 * median_f64(residuals);
    if step >= min_log_step && step > 3.0 * sigma {
        out.push(split);
        segment(x, a, split, min_log_step, out);
        segment(x, split, b, min_log_step, out);
    }
}

#[cfg(test)]
mod tests;
