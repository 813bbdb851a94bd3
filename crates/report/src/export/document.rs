//! The content of the text and markdown reports, as blocks.

use timing_core::stats::Verdict;

use super::Block;
use crate::analysis::{Analysis, BaselineReport, Design, GroupAnalysis, Ranked};

/// The report's blocks, section by section.
pub(super) fn blocks(analysis: &Analysis, baseline: Option<&BaselineReport>) -> Vec<Block> {
    let mut out = vec![Block::Heading(1, "Latency Analysis Report".into())];
    summary(analysis, &mut out);
    section(
        &mut out,
        "Performance Rankings (top 5)",
        analysis,
        &rankings,
    );
    if analysis.groups.iter().any(|g| !g.model_types.is_empty()) {
        section(&mut out, "Model Type Comparison", analysis, &model_types);
    }
    section(
        &mut out,
        "Efficiency Analysis (top 3)",
        analysis,
        &efficiency,
    );
    if analysis.groups.iter().any(|g| !g.pairwise.is_empty()) {
        let margin = analysis.equivalence_margin;
        section(&mut out, "Pairwise Comparisons", analysis, &|g, out| {
            pairwise(g, margin, out)
        });
    }
    if !analysis.repeated.is_empty() {
        repeated_section(analysis, &mut out);
    }
    if let Some(baseline) = baseline {
        baseline_section(baseline, &mut out);
    }
    let notes = super::notes(analysis, baseline);
    if !notes.is_empty() {
        out.push(Block::Heading(1, "Notes".into()));
        out.extend(notes.into_iter().map(|note| Block::Line(note.to_string())));
    }
    out
}

fn summary(analysis: &Analysis, out: &mut Vec<Block>) {
    let s = &analysis.summary;
    let list = |v: &[String]| v.join(", ");
    let nums = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    out.push(Block::Heading(1, "Summary".into()));
    out.push(Block::Line(format!("Records: {}", s.records)));
    out.push(Block::Line(format!(
        "Models: {} ({})",
        s.models.len(),
        list(&s.models)
    )));
    out.push(Block::Line(format!(
        "Model types: {}",
        list(&s.model_types)
    )));
    out.push(Block::Line(format!(
        "Batch sizes: {}",
        nums(&s.batch_sizes)
    )));
    out.push(Block::Line(format!(
        "Sequence lengths: {}",
        nums(&s.sequence_lengths)
    )));
    out.push(Block::Line(format!(
        "Devices: {}; dtypes: {}",
        list(&s.devices),
        list(&s.dtypes)
    )));
    out.push(Block::Line(format!("Machines: {}", list(&s.machines))));
    out.push(Block::Line(format!(
        "Shape groups: {} (rankings and comparisons are made within each)",
        analysis.groups.len()
    )));
}

fn section(
    out: &mut Vec<Block>,
    title: &str,
    analysis: &Analysis,
    each: &dyn Fn(&GroupAnalysis, &mut Vec<Block>),
) {
    out.push(Block::Heading(1, title.into()));
    for group in &analysis.groups {
        out.push(Block::Heading(2, group.shape.to_string()));
        each(group, out);
    }
}

fn ranked_table(
    out: &mut Vec<Block>,
    title: String,
    unit: &str,
    entries: &[Ranked],
    digits: usize,
) {
    out.push(Block::Heading(3, title));
    if entries.is_empty() {
        out.push(Block::Line("(no records measured this)".into()));
        return;
    }
    let rows = entries
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.model_name.clone(),
                r.model_type.clone(),
                format!("{:.*}", digits, r.value),
            ]
        })
        .collect();
    out.push(Block::Table(
        vec!["Rank".into(), "Model".into(), "Type".into(), unit.into()],
        rows,
    ));
}

fn rankings(group: &GroupAnalysis, out: &mut Vec<Block>) {
    let r = &group.rankings;
    ranked_table(out, "Fastest models".into(), "Mean (ms)", &r.fastest, 2);
    ranked_table(
        out,
        "Highest throughput".into(),
        "Tokens/s",
        &r.highest_throughput,
        0,
    );
    let kind = match r.memory_kind.as_str() {
        "device" => "device memory (CUDA allocator peak)",
        "host" => "host memory (process peak resident set)",
        "mixed" => "mixed device and host memory: not comparable",
        "none" => "no record has memory (e.g. --order interleaved records none)",
        _ => "memory of unknown kind (Python tool results)",
    };
    ranked_table(
        out,
        format!("Most memory efficient, {kind}"),
        "Peak (MB)",
        &r.most_memory_efficient,
        1,
    );
    ranked_table(
        out,
        "Most consistent".into(),
        "Std (ms)",
        &r.most_consistent,
        3,
    );
}

fn model_types(group: &GroupAnalysis, out: &mut Vec<Block>) {
    if group.model_types.is_empty() {
        out.push(Block::Line("(one model type in this group)".into()));
        return;
    }
    let pm = |mean: f64, std: Option<f64>, digits: usize| match std {
        Some(std) => format!("{mean:.digits$} ± {std:.digits$}"),
        None => format!("{mean:.digits$}"),
    };
    let rows = group
        .model_types
        .iter()
        .map(|t| {
            vec![
                t.model_type.clone(),
                t.count.to_string(),
                pm(t.mean_latency_mean, t.mean_latency_std, 2),
                pm(t.tokens_per_second_mean, t.tokens_per_second_std, 0),
                t.peak_memory_mb_mean
                    .map_or("-".into(), |m| pm(m, t.peak_memory_mb_std, 1)),
            ]
        })
        .collect();
    let header = [
        "Type",
        "Records",
        "Mean latency (ms)",
        "Tokens/s",
        "Peak memory (MB)",
    ];
    out.push(Block::Table(header.map(String::from).to_vec(), rows));
}

fn efficiency(group: &GroupAnalysis, out: &mut Vec<Block>) {
    let e = &group.efficiency;
    ranked_table(
        out,
        "Lowest latency per token".into(),
        "ms/token",
        &e.latency_per_token,
        6,
    );
    ranked_table(
        out,
        "Lowest memory per token".into(),
        "MB/token",
        &e.memory_per_token,
        6,
    );
}

/// The Python analyzer's speedup notation: `1.25x`, or `1/1.25x` for a slowdown.
pub(super) fn speedup(x: f64) -> String {
    if x > 1.0 {
        format!("{x:.2}x")
    } else {
        format!("1/{:.2}x", 1.0 / x)
    }
}

/// A verdict in words; `margin` is the equivalence margin (a fraction); `interval` the ratio's
/// interval, which tells a change within the noise threshold from no detected change.
fn verdict_text(v: Verdict, margin: f64, interval: Option<(f64, f64)>) -> String {
    match v {
        Verdict::Faster => "A faster".into(),
        Verdict::Slower => "A slower".into(),
        Verdict::Equivalent => format!("equivalent within ±{}", margin_percent(margin)),
        Verdict::NoDifference => no_difference_text(interval),
    }
}

/// `no_difference` in words: "changed, within the noise threshold" when the interval excludes 1
/// (a change, but one below the threshold, and not within the margin), else "no significant
/// difference".
fn no_difference_text(interval: Option<(f64, f64)>) -> String {
    match interval {
        Some((low, high)) if low > 1.0 || high < 1.0 => {
            "changed, within the noise threshold (not shown equivalent)".into()
        }
        _ => "no significant difference".into(),
    }
}

/// A fraction as a percentage without trailing zeros: 0.02 → `2%`, 0.025 → `2.5%`.
fn margin_percent(x: f64) -> String {
    let text = format!("{:.2}", x * 100.0);
    format!("{}%", text.trim_end_matches('0').trim_end_matches('.'))
}

fn pairwise(group: &GroupAnalysis, margin: f64, out: &mut Vec<Block>) {
    if group.pairwise.is_empty() {
        out.push(Block::Line("(one model in this group)".into()));
        return;
    }
    let rows = group
        .pairwise
        .iter()
        .map(|p| {
            let interval = match (p.median_speedup, p.speedup_ci_low, p.speedup_ci_high) {
                (Some(m), Some(lo), Some(hi)) => format!("{m:.3} [{lo:.3}, {hi:.3}]"),
                (Some(m), _, _) => format!("{m:.3}"),
                _ => "-".into(),
            };
            vec![
                p.model_a.clone(),
                p.model_b.clone(),
                speedup(p.latency_speedup),
                format!("{:.2}", p.throughput_ratio),
                p.memory_ratio.map_or("-".into(), |m| format!("{m:.2}")),
                interval,
                p.p_value.map_or("-".into(), |p| format!("{p:.2e}")),
                p.verdict.map_or("no raw latencies".into(), |v| {
                    verdict_text(v, margin, p.speedup_ci_low.zip(p.speedup_ci_high))
                }),
                match (p.design, p.rounds) {
                    (Some(Design::Paired), Some(n)) => format!("paired, {n} rounds"),
                    (Some(d), _) => d.to_string(),
                    (None, _) => "-".into(),
                },
            ]
        })
        .collect();
    let header = [
        "Model A",
        "Model B",
        "Speedup (mean)",
        "Throughput ratio",
        "Memory ratio",
        "Median speedup [95% CI]",
        "p-value",
        "Verdict",
        "Design",
    ];
    out.push(Block::Table(header.map(String::from).to_vec(), rows));
    if group.pairwise_omitted > 0 {
        out.push(Block::Line(format!(
            "({} slower models left out of the pairwise comparisons)",
            group.pairwise_omitted
        )));
    }
}

fn repeated_section(analysis: &Analysis, out: &mut Vec<Block>) {
    out.push(Block::Heading(1, "Repeated Runs".into()));
    let list = |values: &[Option<f64>], digits: usize| {
        let shown: Vec<String> = values
            .iter()
            .map(|v| v.map_or("-".into(), |v| format!("{v:.digits$}")))
            .collect();
        shown.join(", ")
    };
    let rows = analysis
        .repeated
        .iter()
        .map(|r| {
            let medians: Vec<Option<f64>> = r.run_medians.iter().copied().map(Some).collect();
            vec![
                r.model_name.clone(),
                r.shape.to_string(),
                match r.repeats {
                    Some(k) => format!("{} of {k}", r.runs.len()),
                    None => r.runs.len().to_string(),
                },
                list(&medians, 3),
                r.between_run_ci.map_or_else(
                    || format!("{:.3}", r.mean_median),
                    |(lo, hi)| format!("{:.3} [{lo:.3}, {hi:.3}]", r.mean_median),
                ),
                format!("{:.2}%", r.between_run_cv * 100.0),
                r.between_run_half_width
                    .map_or("-".into(), |w| format!("±{:.2}%", w * 100.0)),
                r.within_run_half_width
                    .map_or("-".into(), |w| format!("±{:.2}%", w * 100.0)),
                list(&r.process_to_built_s, 2),
                list(&r.first_latency, 2),
            ]
        })
        .collect();
    let header = [
        "Model",
        "Shape",
        "Runs",
        "Run medians (ms)",
        "Mean median [95% t CI]",
        "Between-run CV",
        "95% CI across runs",
        "95% CI within a run",
        "Cold start: process to built (s)",
        "First forward (ms)",
    ];
    out.push(Block::Table(header.map(String::from).to_vec(), rows));
    out.push(Block::Line(
        "Each run is a fresh process. The interval across runs (Student t over the run medians; \
         wide on purpose with few runs) covers what one process cannot see; both intervals are \
         95% half-widths relative to the median, so a within-run interval much narrower than \
         the one across runs means one run's interval overstates the precision."
            .into(),
    ));
}

fn baseline_section(b: &BaselineReport, out: &mut Vec<Block>) {
    out.push(Block::Heading(1, "Baseline Comparison".into()));
    let percent = |x: f64| format!("{:+.1}%", x * 100.0);
    let rows = b
        .entries
        .iter()
        .map(|e| {
            let change = match (e.change_ci_low, e.change_ci_high) {
                (Some(lo), Some(hi)) => {
                    format!("{} [{}, {}]", percent(e.change), percent(lo), percent(hi))
                }
                _ => percent(e.change),
            };
            let change_ci = e
                .change_ci_low
                .zip(e.change_ci_high)
                .map(|(lo, hi)| (1.0 + lo, 1.0 + hi));
            let verdict = match e.verdict {
                Verdict::Faster | Verdict::Slower => e.verdict.to_string(),
                // Untested: only the recorded medians' change against the threshold.
                Verdict::NoDifference if !e.significance_tested => "within the threshold".into(),
                v => verdict_text(v, b.equivalence_margin, change_ci),
            };
            let verdict = match (e.regression, e.fails_gate, e.significance_tested) {
                (true, _, true) => "REGRESSION".to_owned(),
                (true, _, false) => "REGRESSION (untested: medians)".to_owned(),
                (false, true, true) => format!("NOT EQUIVALENT ({verdict})"),
                (false, true, false) => format!("NOT EQUIVALENT ({verdict}; untested: medians)"),
                (false, false, true) => verdict,
                (false, false, false) => format!("{verdict} (untested: medians)"),
            };
            vec![
                e.key.model_name.clone(),
                e.key.shape.to_string(),
                format!("{:.3}", e.baseline_median),
                format!("{:.3}", e.current_median),
                change,
                e.p_value.map_or("-".into(), |p| format!("{p:.2e}")),
                verdict,
            ]
        })
        .collect();
    let header = [
        "Model",
        "Shape",
        "Baseline median (ms)",
        "Median (ms)",
        "Change [95% CI]",
        "p-value",
        "Verdict",
    ];
    out.push(Block::Table(header.map(String::from).to_vec(), rows));
    for (what, keys) in [
        ("only in this run", &b.only_current),
        ("only in the baseline", &b.only_baseline),
    ] {
        for key in keys {
            out.push(Block::Line(format!(
                "{what}: {} ({})",
                key.model_name, key.shape
            )));
        }
    }
    out.push(Block::Line(format!(
        "{} regression(s): slower than the baseline by more than {:.1}%, with significance where \
         raw latencies exist on both sides",
        b.regressions(),
        b.threshold * 100.0
    )));
    if b.require_equivalent {
        let shown = b
            .entries
            .iter()
            .filter(|e| e.verdict == Verdict::Equivalent)
            .count();
        out.push(Block::Line(format!(
            "{shown} of {} comparison(s) shown equivalent within ±{} (required: the change's whole \
             95% interval within the margin, which needs raw latencies on both sides)",
            b.entries.len(),
            margin_percent(b.equivalence_margin)
        )));
    }
    if b.untested() > 0 {
        out.push(Block::Line(format!(
            "{} of {} comparison(s) untested: without raw latencies on both sides (JSON files) \
             the recorded medians were compared against the threshold, with no significance test",
            b.untested(),
            b.entries.len()
        )));
    }
}
