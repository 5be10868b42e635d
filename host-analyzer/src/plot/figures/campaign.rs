//! The figures of a run's fault-injection campaigns: outcome shares per
//! injector and per injector × target, and recovery-latency CDFs.

use super::*;

/// Palette index of each outcome, fixed across figures, in
/// [`traplab_wire::Outcome::ALL`] order: the recoveries in blue and green,
/// the bad ends in orange, vermillion and black (a kernel crash must stand
/// out), the harmless `masked` in pale sky blue.
pub const OUTCOME_COLORS: [usize; 6] = [0, 2, 1, 3, 4, 7];

/// Palette index of an injector, fixed across figures.
fn injector_color(injector: &str) -> usize {
    crate::campaign::injector_rank(injector)
}

fn outcome_bar(label: String, t: &crate::campaign::Tally) -> ShareBar {
    let n = t.injected.max(1) as f64;
    ShareBar {
        label,
        shares: t.outcomes.iter().map(|&c| 100.0 * c as f64 / n).collect(),
        note: format!("n = {}", t.injected),
    }
}

/// The figures of the fault-injection campaigns of a run: per campaign an
/// outcome bar per injector (one column), per injector × target (two
/// columns) and the recovery-latency CDF per injector (one column).
pub fn for_campaign(
    run: &Run,
    view: &crate::campaign::CampaignView,
    unit: Unit,
) -> Result<Vec<Figure>, UnitError> {
    use traplab_wire::Outcome;
    let k = unit.scale(run.tsc_hz())?;
    let u = unit_name(unit);
    let caption = run_caption(run);
    let categories: Vec<(String, usize)> = Outcome::ALL
        .iter()
        .zip(OUTCOME_COLORS)
        .map(|(o, c)| (o.name().to_string(), c))
        .collect();
    let mut figs = Vec::new();
    for c in &view.campaigns {
        let b = &c.breakdown;
        let name = stem(&c.name);
        let bars: Vec<ShareBar> = b
            .injectors
            .iter()
            .map(|v| outcome_bar(v.injector.clone(), &v.total))
            .collect();
        if bars.is_empty() {
            continue;
        }
        let crashes = b.total.count(Outcome::KernelCrash);
        let crash_note = match crashes {
            0 => "no kernel crash".to_string(),
            1 => "1 kernel crash".to_string(),
            n => format!("{n} kernel crashes"),
        };
        figs.push(Figure {
            name: format!("campaign-{name}-outcomes"),
            width: Width::OneColumn,
            height_in: 1.45 + 0.24 * bars.len() as f64,
            caption: format!(
                "Outcome of each fault injection per injector, campaign {} ({} injections, {crash_note}), % of the injector's injections; {caption}",
                c.name, b.total.injected
            ),
            kind: FigureKind::Shares {
                x_label: "injections (%)".into(),
                categories: categories.clone(),
                bars,
            },
        });
        let by_target: Vec<ShareBar> = b
            .injectors
            .iter()
            .flat_map(|v| {
                v.targets
                    .iter()
                    .map(|(t, tally)| outcome_bar(format!("{} · {t}", v.injector), tally))
            })
            .collect();
        figs.push(Figure {
            name: format!("campaign-{name}-outcomes-by-target"),
            width: Width::TwoColumns,
            height_in: 1.2 + 0.2 * by_target.len() as f64,
            caption: format!(
                "Outcome of each fault injection per injector and target, campaign {} ({} injections, {crash_note}), % of the pair's injections; {caption}",
                c.name, b.total.injected
            ),
            kind: FigureKind::Shares {
                x_label: "injections (%)".into(),
                categories: categories.clone(),
                bars: by_target,
            },
        });
        let lines: Vec<Line> = b
            .injectors
            .iter()
            .filter(|v| !v.recovery.is_empty())
            .enumerate()
            .map(|(j, v)| Line {
                label: format!("{} (n = {})", v.injector, v.recovery.len()),
                color: injector_color(&v.injector),
                dash: j % 3,
                points: step_cdf_points(&sorted(&v.recovery), k),
            })
            .collect();
        if !lines.is_empty() {
            figs.push(Figure {
                name: format!("campaign-{name}-recovery"),
                width: Width::OneColumn,
                height_in: 2.6,
                caption: format!(
                    "CDF of recovery latency per injector (fault or watchdog → fresh instance ready), campaign {}; {caption}",
                    c.name
                ),
                kind: FigureKind::Cdf {
                    x_label: format!("recovery time ({u}, log scale)"),
                    y_label: "fraction of injections ≤ x".into(),
                    lines,
                },
            });
        }
    }
    Ok(figs)
}
