use super::*;

/// Log-normal latencies around `median` with log-sd `sigma`: the usual shape
/// of trap timings (a floor plus a right tail).
fn lognormal(rng: &mut Rng, n: usize, median: f64, sigma: f64) -> Vec<u64> {
    (0..n)
        .map(|_| (median * (sigma * rng.normal()).exp()).round() as u64)
        .collect()
}

fn compare(base: &[u64], cand: &[u64], method: IntervalMethod) -> (RatioInterval, Verdict) {
    let ci = ratio_of_medians(
        base,
        cand,
        0.99,
        method,
        BOOTSTRAP_RESAMPLES,
        BOOTSTRAP_SEED,
    )
    .unwrap();
    (ci, verdict(&ci, 0.05))
}

#[test]
fn describe_reports_exact_extremes_and_percentiles() {
    let v: Vec<u64> = (1..=1000).collect();
    let d = describe(&v).unwrap();
    assert_eq!((d.n, d.min, d.max), (1000, 1, 1000));
    assert_eq!((d.p50, d.p90, d.p99, d.p999), (500, 900, 990, 999));
    assert!((d.mean - 500.5).abs() < 1e-9);
    assert!((d.mad - 250.0).abs() < 1e-9, "{}", d.mad);
    assert_eq!(describe(&[]), None);
}

#[test]
fn constant_series_prints_one_number_everywhere() {
    let d = describe(&[7_176_123; 50]).unwrap();
    assert_eq!([d.min, d.p50, d.p90, d.p99, d.p999, d.max], [7_176_123; 6]);
    assert_eq!(d.mad, 0.0);
}

#[test]
fn large_values_keep_four_significant_digits() {
    let v = [1_234_567u64, 1_234_567, 1_234_567, 9_999_999];
    let d = describe(&v).unwrap();
    assert!(
        (d.p50 as f64 - 1_234_567.0).abs() / 1_234_567.0 < 1e-4,
        "{}",
        d.p50
    );
    assert_eq!(d.max, 9_999_999);
}

#[test]
fn absurd_values_do_not_panic() {
    let d = describe(&[0, u64::MAX, 5]).unwrap();
    assert_eq!((d.min, d.max), (0, u64::MAX));
}

#[test]
fn median_of_even_and_odd_lengths() {
    assert_eq!(median(&[3, 1, 2]), 2.0);
    assert_eq!(median(&[4, 1, 3, 2]), 2.5);
    assert!(median(&[]).is_nan());
}

#[test]
fn quantiles_use_nearest_rank_exactly_below_32768() {
    let v: Vec<u64> = (1..=10).collect();
    let q = Quantiles::of(&v).unwrap();
    assert_eq!(q.at(0.0), 1);
    assert_eq!(q.at(0.5), 5);
    assert_eq!(q.at(0.25), 3);
    assert_eq!(q.at(1.0), 10);
    assert!(Quantiles::of(&[]).is_none());
    // Above 32,768: within 0.01 %, and the same value describe() reports.
    let big: Vec<u64> = (0..1000).map(|i| 1_000_003 + 977 * i).collect();
    let q = Quantiles::of(&big).unwrap();
    let exact = big[499] as f64;
    assert!((q.at(0.5) as f64 - exact).abs() / exact < 1e-4);
    assert_eq!(q.at(0.5), describe(&big).unwrap().p50);
}

#[test]
fn beta_sampler_has_the_right_mean_and_variance() {
    let mut rng = Rng::new(1);
    for (a, b) in [(2.0, 5.0), (50.5, 50.5), (0.5, 0.5)] {
        let n = 40_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.beta(a, b)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let want_mean = a / (a + b);
        let want_var = a * b / ((a + b) * (a + b) * (a + b + 1.0));
        assert!(
            (mean - want_mean).abs() < 0.01,
            "Beta({a},{b}) mean {mean} vs {want_mean}"
        );
        assert!(
            (var / want_var - 1.0).abs() < 0.05,
            "Beta({a},{b}) var {var} vs {want_var}"
        );
    }
}

#[test]
fn rng_is_reproducible_for_a_seed() {
    let a: Vec<u64> = {
        let mut r = Rng::new(7);
        (0..4).map(|_| r.next_u64()).collect()
    };
    let b: Vec<u64> = {
        let mut r = Rng::new(7);
        (0..4).map(|_| r.next_u64()).collect()
    };
    assert_eq!(a, b);
    assert_ne!(a, {
        let mut r = Rng::new(8);
        (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
    });
}

#[test]
fn a_a_one_run_against_itself_is_unchanged() {
    let run = lognormal(&mut Rng::new(11), 2000, 7176.0, 0.1);
    let (ci, v) = compare(&run, &run, IntervalMethod::Bootstrap);
    assert_eq!(v, Verdict::Unchanged, "{ci:?}");
    assert_eq!(ci.ratio, 1.0);
    assert!(ci.low < 1.0 && ci.high > 1.0, "{ci:?}");
}

#[test]
fn a_a_two_samples_from_one_distribution_are_unchanged() {
    let mut rng = Rng::new(12);
    let base = lognormal(&mut rng, 2000, 7176.0, 0.1);
    let cand = lognormal(&mut rng, 2000, 7176.0, 0.1);
    let (ci, v) = compare(&base, &cand, IntervalMethod::Bootstrap);
    assert_eq!(v, Verdict::Unchanged, "{ci:?}");
}

#[test]
fn a_a_has_no_false_alarms_over_many_pairs() {
    // 200 independent A/A pairs of a noisy (TCG-like) distribution: none may
    // be called a change.
    let mut rng = Rng::new(13);
    for i in 0..200 {
        let base = lognormal(&mut rng, 1000, 19_318.0, 0.15);
        let cand = lognormal(&mut rng, 1000, 19_318.0, 0.15);
        let (ci, v) = compare(&base, &cand, IntervalMethod::Bootstrap);
        assert!(
            matches!(v, Verdict::Unchanged | Verdict::Unsure),
            "pair {i}: {v:?} {ci:?}"
        );
        assert_ne!(
            v,
            Verdict::Unsure,
            "pair {i}: n=1000 should be enough to decide: {ci:?}"
        );
    }
}

#[test]
fn ten_percent_shift_is_regressed() {
    let mut rng = Rng::new(14);
    let base = lognormal(&mut rng, 2000, 7176.0, 0.1);
    let cand: Vec<u64> = lognormal(&mut rng, 2000, 7176.0, 0.1)
        .iter()
        .map(|&v| v + v / 10)
        .collect();
    let (ci, v) = compare(&base, &cand, IntervalMethod::Bootstrap);
    assert_eq!(v, Verdict::Regressed, "{ci:?}");
    assert!((ci.ratio - 1.10).abs() < 0.02, "{ci:?}");
    // And the mirror image is an improvement.
    let (ci, v) = compare(&cand, &base, IntervalMethod::Bootstrap);
    assert_eq!(v, Verdict::Improved, "{ci:?}");
}

#[test]
fn ten_percent_shift_is_detected_reliably() {
    let mut rng = Rng::new(15);
    let detected = (0..50)
        .filter(|_| {
            let base = lognormal(&mut rng, 1000, 7176.0, 0.15);
            let cand: Vec<u64> = lognormal(&mut rng, 1000, 7176.0 * 1.10, 0.15);
            compare(&base, &cand, IntervalMethod::Bootstrap).1 == Verdict::Regressed
        })
        .count();
    assert!(detected >= 45, "only {detected}/50 shifts detected");
}

#[test]
fn tiny_noisy_sample_is_unsure() {
    let mut rng = Rng::new(16);
    let base = lognormal(&mut rng, 5, 7176.0, 0.5);
    let cand = lognormal(&mut rng, 5, 7176.0 * 1.1, 0.5);
    let (ci, v) = compare(&base, &cand, IntervalMethod::Bootstrap);
    assert_eq!(v, Verdict::Unsure, "{ci:?}");
    assert!(ci.high / ci.low > 1.2, "interval should be wide: {ci:?}");
}

#[test]
fn deterministic_identical_samples_are_unchanged_with_zero_width() {
    let run: Vec<u64> = (0..100).map(|i| 1400 + (i % 3)).collect();
    let (ci, v) = compare(&run, &run, IntervalMethod::Exact);
    assert_eq!(v, Verdict::Unchanged);
    assert_eq!((ci.ratio, ci.low, ci.high), (1.0, 1.0, 1.0));
    // Constant samples give a zero-width interval under the bootstrap too.
    let (ci, v) = compare(&[1400; 20], &[1400; 20], IntervalMethod::Bootstrap);
    assert_eq!((v, ci.low, ci.high), (Verdict::Unchanged, 1.0, 1.0));
}

#[test]
fn deterministic_shift_beyond_threshold_is_regressed_exactly() {
    let base = vec![1400u64; 10];
    let cand = vec![1540u64; 10];
    let (ci, v) = compare(&base, &cand, IntervalMethod::Exact);
    assert_eq!(v, Verdict::Regressed);
    assert!((ci.low - 1.1).abs() < 1e-12 && ci.low == ci.high);
}

#[test]
fn bootstrap_is_reproducible() {
    let mut rng = Rng::new(17);
    let base = lognormal(&mut rng, 300, 7000.0, 0.3);
    let cand = lognormal(&mut rng, 300, 7000.0, 0.3);
    assert_eq!(
        compare(&base, &cand, IntervalMethod::Bootstrap),
        compare(&base, &cand, IntervalMethod::Bootstrap)
    );
}

#[test]
fn zero_medians_do_not_produce_nan() {
    let (ci, v) = compare(&[0, 0, 0], &[0, 0, 0], IntervalMethod::Bootstrap);
    assert_eq!((ci.ratio, v), (1.0, Verdict::Unchanged));
    let (ci, v) = compare(&[0, 0, 0], &[5, 5, 5], IntervalMethod::Bootstrap);
    assert!(ci.ratio.is_infinite());
    assert_eq!(v, Verdict::Regressed);
    assert_eq!(
        ratio_of_medians(&[], &[1], 0.99, IntervalMethod::Bootstrap, 10, 1),
        None
    );
}

#[test]
fn verdict_boundaries() {
    let ci = |low, high| RatioInterval {
        ratio: 1.0,
        low,
        high,
        confidence: 0.99,
        method: IntervalMethod::Bootstrap,
    };
    assert_eq!(verdict(&ci(1.06, 1.2), 0.05), Verdict::Regressed);
    assert_eq!(verdict(&ci(0.8, 0.94), 0.05), Verdict::Improved);
    assert_eq!(verdict(&ci(0.96, 1.04), 0.05), Verdict::Unchanged);
    assert_eq!(verdict(&ci(1.02, 1.08), 0.05), Verdict::Unsure);
    assert_eq!(verdict(&ci(0.9, 1.1), 0.05), Verdict::Unsure);
}

#[test]
fn change_point_found_at_the_step() {
    let mut rng = Rng::new(18);
    let levels: Vec<f64> = (0..12)
        .map(|i| if i < 7 { 7176.0 } else { 8200.0 } * (1.0 + 0.005 * rng.normal()))
        .collect();
    assert_eq!(change_points(&levels, 0.05), vec![7]);
}

#[test]
fn two_steps_are_both_found() {
    let levels = [100.0, 101.0, 99.0, 130.0, 131.0, 129.0, 130.0, 100.0, 100.5];
    assert_eq!(change_points(&levels, 0.05), vec![3, 7]);
}

#[test]
fn flat_noisy_history_has_no_change_points() {
    let mut rng = Rng::new(19);
    let levels: Vec<f64> = (0..30)
        .map(|_| 7176.0 * (1.0 + 0.01 * rng.normal()))
        .collect();
    assert!(change_points(&levels, 0.05).is_empty());
    assert!(change_points(&[], 0.05).is_empty());
    assert!(change_points(&[5.0], 0.05).is_empty());
}

#[test]
fn small_step_below_threshold_is_ignored() {
    let levels = [100.0, 100.0, 100.0, 102.0, 102.0, 102.0];
    assert!(change_points(&levels, 0.05).is_empty());
}
