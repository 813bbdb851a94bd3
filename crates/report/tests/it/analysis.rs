use report::analysis::{
    AnalysisConfig, BaselineConfig, BaselineError, Design, Origin, analyze, compare_to_baseline,
};
use report::export::{Format, render};
use report::io::read_results;
use timing_core::stats::Verdict;

use crate::{data, latencies, row};

/// The default gate: 5%, records matched on the same machine.
fn gate() -> BaselineConfig {
    BaselineConfig::default()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn python_file_rankings_types_efficiency_and_pairs() {
    let rows = read_results(&data("python_tool.csv")).unwrap();
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.summary.records, 4);
    assert_eq!(
        a.summary.model_types,
        ["flex_bert", "hf_bert", "mosaic_bert"]
    );
    assert_eq!(a.groups.len(), 1);
    let g = &a.groups[0];
    let names =
        |v: &[report::analysis::Ranked]| v.iter().map(|r| r.model_name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&g.rankings.fastest),
        [
            "flex-bert-base",
            "mosaic-bert",
            "hf-bert-base",
            "flex-bert-large"
        ]
    );
    assert_eq!(names(&g.rankings.highest_throughput)[0], "flex-bert-base");
    assert_eq!(
        names(&g.rankings.most_memory_efficient),
        [
            "mosaic-bert",
            "flex-bert-base",
            "hf-bert-base",
            "flex-bert-large"
        ]
    );
    assert_eq!(g.rankings.memory_kind, "unknown");
    assert_eq!(names(&g.rankings.most_consistent)[0], "mosaic-bert");

    // python -c "import numpy as np; print(np.mean([45.23,60.0]), np.std([45.23,60.0],ddof=1))"
    let flex = g
        .model_types
        .iter()
        .find(|t| t.model_type == "flex_bert")
        .unwrap();
    assert_eq!(flex.count, 2);
    assert!(close(flex.mean_latency_mean, 52.614999999999995));
    assert!(close(flex.mean_latency_std.unwrap(), 10.443967158125309));
    assert!(close(
        flex.tokens_per_second_std.unwrap(),
        15760.208071120129
    ));
    assert!(close(flex.peak_memory_mb_mean.unwrap(), 1641.25));
    let hf = g
        .model_types
        .iter()
        .find(|t| t.model_type == "hf_bert")
        .unwrap();
    assert_eq!((hf.count, hf.mean_latency_std), (1, None));

    // 45.23/4096 = 0.01104248046875; 1156.7/4096 = 0.2823974609375
    assert!(close(
        g.efficiency.latency_per_token[0].value,
        0.01104248046875
    ));
    assert_eq!(g.efficiency.latency_per_token.len(), 3);
    assert!(close(
        g.efficiency.memory_per_token[0].value,
        0.2823974609375
    ));

    // Six pairs in file order; the Python analyzer's ratios.
    assert_eq!(g.pairwise.len(), 6);
    let p = &g.pairwise[0];
    assert_eq!(
        (p.model_a.as_str(), p.model_b.as_str()),
        ("flex-bert-base", "mosaic-bert")
    );
    assert!(close(p.latency_speedup, 1.0813619279239444));
    assert!(close(p.throughput_ratio, 1.081362190357003));
    assert!(close(p.memory_ratio.unwrap(), 1.067260309501167));
    assert_eq!((p.median_speedup, p.verdict), (None, None));
    let last = &g.pairwise[5];
    assert_eq!(
        (last.model_a.as_str(), last.model_b.as_str()),
        ("hf-bert-base", "flex-bert-large")
    );
    assert!(close(last.latency_speedup, 1.139168407062844));
}

#[test]
fn rankings_and_pairs_never_mix_shapes() {
    let rows = vec![
        row(
            "small-fast",
            "hf_bert",
            1,
            128,
            latencies(5.0, 0.02, 100, 0),
        ),
        row("big", "modern_bert", 8, 512, latencies(40.0, 0.02, 100, 1)),
        row(
            "small-slow",
            "modern_bert",
            1,
            128,
            latencies(6.0, 0.02, 100, 2),
        ),
        row(
            "big-faster",
            "hf_bert",
            8,
            512,
            latencies(30.0, 0.02, 100, 3),
        ),
    ];
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.groups.len(), 2);
    assert_eq!(
        (a.groups[0].shape.batch_size, a.groups[1].shape.batch_size),
        (1, 8)
    );
    assert_eq!(a.groups[0].rankings.fastest.len(), 2);
    assert_eq!(a.groups[1].rankings.fastest[0].model_name, "big-faster");
    assert_eq!(a.groups[0].rankings.memory_kind, "host");
    for g in &a.groups {
        assert_eq!(g.pairwise.len(), 1);
    }
    // With raw latencies, pairs get an interval and a verdict: 5 ms vs 6 ms is a clear win for A.
    let p = &a.groups[0].pairwise[0];
    assert_eq!(p.verdict, Some(Verdict::Faster));
    let (lo, hi) = (p.speedup_ci_low.unwrap(), p.speedup_ci_high.unwrap());
    assert!(
        lo < p.median_speedup.unwrap() && p.median_speedup.unwrap() < hi && lo > 1.0,
        "{p:?}"
    );
    assert!(close(
        p.median_speedup.unwrap(),
        rows[2].median_latency / rows[0].median_latency
    ));
    // B of the second group is faster: A (big) is slower.
    assert_eq!(a.groups[1].pairwise[0].verdict, Some(Verdict::Slower));
}

#[test]
fn equal_models_are_equivalent_within_the_margin_and_inconclusive_without_one() {
    let rows = vec![
        row("a", "hf_bert", 1, 128, latencies(10.0, 0.05, 200, 0)),
        row("b", "hf_bert", 1, 128, latencies(10.0, 0.05, 200, 7)),
    ];
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    let p = &a.groups[0].pairwise[0];
    assert_eq!(p.verdict, Some(Verdict::Equivalent), "{p:?}");
    assert_eq!(p.design, Some(Design::Independent));
    assert_eq!(a.equivalence_margin, 0.02);
    assert!(
        a.groups[0].model_types.is_empty(),
        "one type: no type comparison"
    );
    let text = render(&a, None, Format::Text).unwrap();
    assert!(text.contains("equivalent within ±2%"), "{text}");
    // A margin narrower than the interval: no longer shown equivalent.
    let mut strict = AnalysisConfig::default();
    strict.compare.margin = Some(0.0001);
    let a = analyze(&rows, &strict).unwrap();
    assert_eq!(a.groups[0].pairwise[0].verdict, Some(Verdict::NoDifference));
}

/// Two records of one interleaved run: `a` and `b` are the same routine measured in alternating
/// rounds while the machine slowed down by 30%; `factor` scales `a`. Samples are taken in
/// order, a round's block of `a` just before `b`'s (as the interleaver runs them).
fn interleaved_pair(factor: f64, rounds: usize) -> Vec<report::ResultRow> {
    let drift = |t: f64| 10.0 * (1.0 + 0.3 * t / rounds as f64);
    let wobble = |i: usize| 1.0 + 0.004 * (((i * 37) % 11) as f64 - 5.0) / 5.0;
    let a: Vec<f64> = (0..rounds)
        .map(|i| factor * drift(i as f64) * wobble(i))
        .collect();
    let b: Vec<f64> = (0..rounds)
        .map(|i| drift(i as f64 + 0.5) * wobble(i + 3))
        .collect();
    [("a", a), ("b", b)]
        .into_iter()
        .map(|(name, rounds_ms)| report::ResultRow {
            order: Some("interleaved".into()),
            rounds: Some(rounds as u64),
            block_batches: Some(1),
            plan_hash: Some("0123456789abcdef".into()),
            host_name: Some("node1".into()),
            round_latencies_ms: Some(rounds_ms.clone()),
            ..row(name, "hf_bert", 1, 128, rounds_ms)
        })
        .collect()
}

#[test]
fn interleaved_records_are_compared_round_by_round() {
    // Paired: identical routines are equivalent despite the drift; independent comparison of
    // the same samples (each set spans the whole drift) cannot show it.
    let rows = interleaved_pair(1.0, 60);
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    let p = &a.groups[0].pairwise[0];
    assert_eq!(p.design, Some(Design::Paired), "{p:?}");
    assert_eq!(p.rounds, Some(60));
    assert_eq!(p.verdict, Some(Verdict::Equivalent), "{p:?}");
    // The speedup is the inverse of the median per-round ratio: python3 -c "import numpy as np; ..."
    let ratios: Vec<f64> = rows[0]
        .round_latencies_ms
        .as_ref()
        .unwrap()
        .iter()
        .zip(rows[1].round_latencies_ms.as_ref().unwrap())
        .map(|(x, y)| x / y)
        .collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[29] + sorted[30]) / 2.0;
    assert!(close(p.median_speedup.unwrap(), 1.0 / median), "{p:?}");
    let independent: Vec<report::ResultRow> = rows
        .iter()
        .cloned()
        .map(|r| report::ResultRow { order: None, ..r })
        .collect();
    let i = analyze(&independent, &AnalysisConfig::default()).unwrap();
    let q = &i.groups[0].pairwise[0];
    assert_eq!(q.design, Some(Design::Independent));
    assert_ne!(q.verdict, Some(Verdict::Equivalent), "{q:?}");
    let text = render(&a, None, Format::Text).unwrap();
    assert!(text.contains("paired, 60 rounds"), "{text}");

    // A real 5% slowdown is found round by round.
    let slower = interleaved_pair(1.05, 30);
    let a = analyze(&slower, &AnalysisConfig::default()).unwrap();
    let p = &a.groups[0].pairwise[0];
    assert_eq!(
        (p.design, p.verdict),
        (Some(Design::Paired), Some(Verdict::Slower)),
        "{p:?}"
    );

    // Records of different plans or machines, or with round counts that differ, are not paired.
    for change in 0..3 {
        let mut rows = interleaved_pair(1.0, 60);
        match change {
            0 => rows[1].plan_hash = Some("fedcba9876543210".into()),
            1 => rows[1].host_name = Some("node2".into()),
            _ => rows[1]
                .round_latencies_ms
                .as_mut()
                .unwrap()
                .pop()
                .map(|_| ())
                .unwrap(),
        }
        let config = AnalysisConfig {
            ignore_machine: true,
            ..AnalysisConfig::default()
        };
        let a = analyze(&rows, &config).unwrap();
        assert_eq!(
            a.groups[0].pairwise[0].design,
            Some(Design::Independent),
            "change {change}"
        );
    }
}

#[test]
fn pairwise_is_capped_to_the_fastest_models() {
    let rows: Vec<_> = (0..25)
        .map(|i| {
            row(
                &format!("m{i}"),
                "hf_bert",
                1,
                128,
                vec![100.0 - f64::from(i)],
            )
        })
        .collect();
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.groups[0].pairwise.len(), 20 * 19 / 2);
    assert_eq!(a.groups[0].pairwise_omitted, 5);
    assert!(
        a.groups[0]
            .pairwise
            .iter()
            .all(|p| p.model_a != "m0" && p.model_b != "m4")
    );
}

#[test]
fn baseline_gate_flags_a_regression_and_not_noise() {
    let base = vec![
        row("a", "hf_bert", 1, 128, latencies(10.0, 0.03, 200, 0)),
        row("b", "hf_bert", 1, 128, latencies(20.0, 0.03, 200, 0)),
        row("gone", "hf_bert", 1, 128, latencies(20.0, 0.03, 200, 0)),
    ];
    let current = vec![
        row("a", "hf_bert", 1, 128, latencies(11.0, 0.03, 200, 5)), // 10% slower
        row("b", "hf_bert", 1, 128, latencies(20.1, 0.03, 200, 9)), // 0.5%: noise
        row("new", "hf_bert", 1, 128, latencies(5.0, 0.03, 200, 0)),
    ];
    let report = compare_to_baseline(&current, &base, &gate()).unwrap();
    assert_eq!(report.regressions(), 1);
    assert_eq!(report.entries.len(), 2);
    let a = &report.entries[0];
    assert!(a.regression && a.significance_tested && a.verdict == Verdict::Slower);
    assert!(
        (a.change - 0.1).abs() < 0.01 && a.change_ci_low.unwrap() > 0.05,
        "{a:?}"
    );
    assert!(!report.entries[1].regression);
    // 0.5% with ±3% noise and 200 samples: the interval lies within the ±5% margin.
    assert_eq!(report.entries[1].verdict, Verdict::Equivalent);
    assert_eq!(report.failures(), 1);
    assert_eq!(report.only_current[0].model_name, "new");
    assert_eq!(report.only_baseline[0].model_name, "gone");

    // Without raw latencies the gate fails closed: the recorded medians decide, untested.
    let strip = |rows: &[report::ResultRow]| {
        rows.iter()
            .cloned()
            .map(|r| report::ResultRow {
                latencies_ms: None,
                ..r
            })
            .collect::<Vec<_>>()
    };
    let untested = compare_to_baseline(&strip(&current), &strip(&base), &gate()).unwrap();
    assert_eq!((untested.regressions(), untested.untested()), (1, 2));
    assert_eq!(untested.entries[0].verdict, Verdict::Slower);
    assert!(untested.entries[0].regression && !untested.entries[0].significance_tested);
    assert!(!untested.entries[1].regression);
}

#[test]
fn text_and_markdown_reports_have_the_python_sections_in_order() {
    let rows = read_results(&data("python_tool.csv")).unwrap();
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    for format in [Format::Text, Format::Markdown] {
        let text = render(&a, None, format).unwrap();
        let at = |s: &str| {
            text.find(s)
                .unwrap_or_else(|| panic!("{s:?} missing from {format:?}:\n{text}"))
        };
        let order = [
            at("Summary"),
            at("Performance Rankings (top 5)"),
            at("Model Type Comparison"),
            at("Efficiency Analysis (top 3)"),
            at("Pairwise Comparisons"),
        ];
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "{format:?} sections out of order"
        );
        assert!(text.contains("1.08x"), "speedup notation: {text}");
        assert!(text.contains("52.61 ± 10.44"), "type comparison: {text}");
        assert!(text.contains("memory of unknown kind"), "{text}");
    }
    let markdown = render(&a, None, Format::Markdown).unwrap();
    assert!(
        markdown.contains("## Summary") && markdown.contains("| Rank |"),
        "{markdown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&render(&a, None, Format::Json).unwrap()).unwrap();
    let pair = &json["groups"][0]["pairwise"][0];
    for key in [
        "model_a",
        "model_b",
        "latency_speedup",
        "throughput_ratio",
        "memory_ratio",
        "shape",
    ] {
        assert!(pair.get(key).is_some(), "pairwise JSON lacks {key}: {pair}");
    }
    assert_eq!(json["summary"]["records"], 4);
}

/// Issue 13, item 7: one policy for a bad record. Unusable raw latencies skip that record's
/// intervals and verdicts, with one note; nothing aborts.
#[test]
fn issue_13_unusable_raw_latencies_are_noted_once_and_nothing_aborts() {
    let mut rows = vec![
        row("a", "hf_bert", 1, 128, latencies(10.0, 0.02, 100, 0)),
        row("empty", "hf_bert", 1, 128, vec![11.0]),
        row("c", "hf_bert", 1, 128, latencies(12.0, 0.02, 100, 1)),
    ];
    rows[1].latencies_ms = Some(Vec::new());
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
    let note = a.notes[0].to_string();
    assert!(
        note.starts_with("record 2 (model empty, batch 1 x seq 128, cpu, fp32")
            && note.contains("no raw latencies usable: the list is empty;")
            && note.ends_with("its intervals and verdicts are skipped"),
        "{note}"
    );
    let verdicts: Vec<_> = a.groups[0].pairwise.iter().map(|p| p.verdict).collect();
    assert_eq!(verdicts, [None, Some(Verdict::Faster), None]);

    // A baseline whose record "c" has a NaN among its raw latencies: no error either; both
    // records are noted, the results' record once across analysis and baseline.
    let mut base = rows.clone();
    base[2].latencies_ms.as_mut().unwrap()[5] = f64::NAN;
    let b = compare_to_baseline(&rows, &base, &gate()).unwrap();
    assert_eq!(b.entries.len(), 3);
    assert!(b.entries[0].significance_tested && !b.entries[2].significance_tested);
    let notes: Vec<String> = report::export::notes(&a, Some(&b))
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(notes.len(), 3, "{notes:#?}");
    assert!(notes[0].starts_with("record 2 (model empty"), "{notes:#?}");
    assert!(
        notes[1].starts_with("baseline record 2 (model empty"),
        "{notes:#?}"
    );
    assert!(
        notes[2].starts_with("baseline record 3 (model c")
            && notes[2].contains("usable: element 6 is NaN, not a finite number;"),
        "{notes:#?}"
    );
    let text = render(&a, Some(&b), Format::Text).unwrap();
    assert_eq!(text.matches("record 2 (model empty").count(), 2, "{text}");
    assert!(text.contains("\nNotes\n=====\n"), "{text}");
}

/// Issue 13, item 8: the baseline gate fails closed.
#[test]
fn issue_13_gate_without_raw_latencies_compares_recorded_medians() {
    // Python-tool style records (no raw latencies): b is 50% slower than its baseline.
    let base = read_results(&data("python_tool.csv")).unwrap();
    let mut current = base.clone();
    current[1].median_latency *= 1.5;
    current[2].median_latency *= 1.04; // within the 5% threshold
    let report = compare_to_baseline(&current, &base, &gate()).unwrap();
    assert_eq!((report.regressions(), report.untested()), (1, 4));
    let slow = &report.entries[1];
    assert_eq!(slow.key.model_name, "mosaic-bert");
    assert!(slow.regression && !slow.significance_tested && slow.verdict == Verdict::Slower);
    assert!(close(slow.change, 0.5));
    assert!(!report.entries[2].regression);
    let text = render(
        &analyze(&current, &AnalysisConfig::default()).unwrap(),
        Some(&report),
        Format::Text,
    )
    .unwrap();
    assert!(text.contains("REGRESSION (untested: medians)"), "{text}");
    assert!(text.contains("4 of 4 comparison(s) untested"), "{text}");
}

#[test]
fn issue_13_a_baseline_that_matches_nothing_says_why() {
    // Ours (device cpu, fp32) against a Python-tool file (no device column).
    let base = read_results(&data("python_tool.csv")).unwrap();
    let current = vec![
        row("other", "hf_bert", 8, 512, vec![50.0]),
        row("hf-bert-base", "hf_bert", 8, 512, vec![50.0]),
    ];
    let err = compare_to_baseline(&current, &base, &gate()).unwrap_err();
    let BaselineError::NoMatch(no_match) = &err else {
        panic!("{err:?}")
    };
    let near = no_match.nearest.as_ref().unwrap();
    assert_eq!((near.record, near.baseline_record), (2, 3));
    let fields: Vec<&str> = near.differences.iter().map(|d| d.0).collect();
    assert_eq!(fields, ["device", "dtype"]);
    let m = err.to_string();
    assert!(
        m.contains("no record of the results (2 records) has a record of the same model and shape in the baseline (4 records)")
            && m.contains("device ('cpu' here, 'unknown' in the baseline), dtype ('fp32' here, 'unknown' in the baseline)")
            && m.contains("the baseline records no device (a Python-tool file?)"),
        "{m}"
    );
    let empty = compare_to_baseline(&current, &[], &gate()).unwrap_err();
    assert!(
        matches!(&empty, BaselineError::NoMatch(n) if n.nearest.is_none()),
        "{empty}"
    );
}

#[test]
fn issue_13_duplicate_keys_are_an_error_naming_both_records() {
    let a = row("a", "hf_bert", 1, 128, latencies(10.0, 0.03, 50, 0));
    let b = row("b", "hf_bert", 1, 128, latencies(10.0, 0.03, 50, 0));
    let twice = vec![a.clone(), b.clone(), a.clone()];
    let err = compare_to_baseline(&[a.clone(), b.clone()], &twice, &gate()).unwrap_err();
    assert!(
        matches!(
            err,
            BaselineError::Duplicate {
                origin: Origin::Baseline,
                first: 1,
                second: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(
            "the baseline's records 1 and 3 both measure model a at batch 1 x seq 128, cpu, fp32"
        ),
        "{err}"
    );
    let err = compare_to_baseline(&[b.clone(), a.clone(), b], &[a], &gate()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the results' records 1 and 3 both measure model b"),
        "{err}"
    );
}

/// A record on a machine: `cuda:0` of host `host` with GPU `gpu`.
fn on_machine(name: &str, host: &str, gpu: &str, center: f64, phase: usize) -> report::ResultRow {
    let mut r = row(name, "hf_bert", 1, 128, latencies(center, 0.02, 100, phase));
    r.device = Some("cuda:0".into());
    r.device_name = Some(gpu.into());
    r.host_name = Some(host.into());
    r.num_threads = Some(8);
    r
}

/// Issue 13, item 9: two machines' `cuda:0` records are not one group, unless asked.
#[test]
fn issue_13_records_of_different_machines_are_separate_groups() {
    let rows = vec![
        on_machine("a", "node-1", "NVIDIA H100", 10.0, 0),
        on_machine("b", "node-1", "NVIDIA H100", 12.0, 1),
        on_machine("a", "node-2", "NVIDIA A10", 30.0, 2),
        on_machine("b", "node-2", "NVIDIA A10", 20.0, 3),
    ];
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.groups.len(), 2);
    assert_eq!(
        a.groups[0].shape.to_string(),
        "batch 1 x seq 128, cuda:0, fp32, NVIDIA H100 on node-1, 8 threads"
    );
    assert_eq!(a.groups[0].rankings.fastest[0].model_name, "a");
    assert_eq!(a.groups[1].rankings.fastest[0].model_name, "b");
    assert_eq!(
        (a.groups[0].pairwise.len(), a.groups[1].pairwise.len()),
        (1, 1)
    );
    assert_eq!(
        a.summary.machines,
        [
            "NVIDIA A10 on node-2, 8 threads",
            "NVIDIA H100 on node-1, 8 threads"
        ]
    );
    // A single-thread machine differs too.
    let mut threads = rows.clone();
    threads[1].num_threads = Some(1);
    assert_eq!(
        analyze(&threads, &AnalysisConfig::default())
            .unwrap()
            .groups
            .len(),
        3
    );

    let merged = AnalysisConfig {
        ignore_machine: true,
        ..AnalysisConfig::default()
    };
    let m = analyze(&rows, &merged).unwrap();
    assert_eq!((m.groups.len(), m.groups[0].records), (1, 4));
    assert_eq!(m.groups[0].pairwise.len(), 6);
    assert_eq!(
        m.groups[0].shape.to_string(),
        "batch 1 x seq 128, cuda:0, fp32"
    );

    // Python tool files record no machine: one "unknown machine" group.
    let python = read_results(&data("python_tool.csv")).unwrap();
    let p = analyze(&python, &AnalysisConfig::default()).unwrap();
    assert_eq!(p.groups.len(), 1);
    assert!(
        p.groups[0].shape.to_string().ends_with(", unknown machine"),
        "{}",
        p.groups[0].shape
    );

    // A baseline from another machine matches nothing (and says so) unless asked.
    let (node1, node2) = (&rows[..2], &rows[2..]);
    let err = compare_to_baseline(node2, node1, &gate()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("device_name ('NVIDIA A10' here, 'NVIDIA H100' in the baseline), host_name ('node-2' here, 'node-1' in the baseline)")
            && message.contains("--ignore-machine compares across machines"),
        "{message}"
    );
    let across = BaselineConfig {
        ignore_machine: true,
        ..gate()
    };
    let report = compare_to_baseline(node2, node1, &across).unwrap();
    assert_eq!(report.entries.len(), 2);
    assert_eq!(report.regressions(), 2); // 30 vs 10 and 20 vs 12 ms
}

#[test]
fn a_gate_requiring_equivalence_fails_what_is_not_shown_equivalent() {
    let base = vec![
        row("same", "hf_bert", 1, 128, latencies(10.0, 0.03, 200, 0)),
        row("few", "hf_bert", 1, 128, latencies(10.0, 0.03, 6, 0)),
        row("faster", "hf_bert", 1, 128, latencies(10.0, 0.03, 200, 0)),
    ];
    let current = vec![
        row("same", "hf_bert", 1, 128, latencies(10.02, 0.03, 200, 5)),
        // Too few samples to show anything: inconclusive, not a regression.
        row("few", "hf_bert", 1, 128, latencies(10.0, 0.03, 6, 2)),
        row("faster", "hf_bert", 1, 128, latencies(8.0, 0.03, 200, 5)),
    ];
    let strict = BaselineConfig {
        require_equivalent: true,
        margin: Some(0.02),
        ..gate()
    };
    let report = compare_to_baseline(&current, &base, &strict).unwrap();
    let verdicts: Vec<_> = report.entries.iter().map(|e| e.verdict).collect();
    assert_eq!(
        verdicts,
        [Verdict::Equivalent, Verdict::NoDifference, Verdict::Faster]
    );
    assert_eq!(report.regressions(), 0);
    let fails: Vec<bool> = report.entries.iter().map(|e| e.fails_gate).collect();
    assert_eq!(fails, [false, true, true]);
    assert_eq!(report.failures(), 2);
    // Without the requirement only regressions fail.
    let plain = compare_to_baseline(&current, &base, &gate()).unwrap();
    assert_eq!(plain.failures(), 0);
    // Untested records can never be shown equivalent.
    let strip = |rows: &[report::ResultRow]| -> Vec<report::ResultRow> {
        rows.iter()
            .cloned()
            .map(|r| report::ResultRow {
                latencies_ms: None,
                ..r
            })
            .collect()
    };
    let untested = compare_to_baseline(&strip(&current), &strip(&base), &strict).unwrap();
    assert!(
        untested
            .entries
            .iter()
            .all(|e| e.fails_gate && e.verdict != Verdict::Equivalent)
    );
    let text = render(
        &analyze(&current, &AnalysisConfig::default()).unwrap(),
        Some(&report),
        Format::Text,
    )
    .unwrap();
    assert!(
        text.contains("NOT EQUIVALENT (no significant difference)"),
        "{text}"
    );
    assert!(
        text.contains("1 of 3 comparison(s) shown equivalent within ±2%"),
        "{text}"
    );
    let bad = BaselineConfig {
        margin: Some(-1.0),
        ..gate()
    };
    assert!(matches!(
        compare_to_baseline(&current, &base, &bad),
        Err(BaselineError::Margin(_))
    ));
}

#[test]
fn repeated_runs_get_a_between_run_interval_and_are_ranked_run_by_run() {
    // Run medians 10.2, 10.5, 9.9 ms: python3 -c "from scipy import stats; import numpy as np;
    // v=np.array([10.2,10.5,9.9]); print(stats.t.interval(0.95, 2, loc=v.mean(),
    // scale=v.std(ddof=1)/np.sqrt(3)))" -> (9.454758686474902, 10.9452413135251)
    let rows: Vec<report::ResultRow> = [(3, 9.9), (1, 10.2), (2, 10.5)]
        .into_iter()
        .flat_map(|(run, center)| {
            let a = report::ResultRow {
                repeat_index: Some(run),
                repeats: Some(3),
                process_to_built_s: Some(0.5 + run as f64 / 10.0),
                first_latency: Some(40.0),
                median_latency: center,
                ..row("a", "hf_bert", 1, 128, latencies(center, 0.02, 101, 0))
            };
            let b = report::ResultRow {
                repeat_index: Some(run),
                repeats: Some(3),
                ..row("b", "hf_bert", 1, 128, latencies(20.0, 0.02, 101, 0))
            };
            [a, b]
        })
        .collect();
    let a = analyze(&rows, &AnalysisConfig::default()).unwrap();
    assert_eq!(a.repeated.len(), 2);
    let r = &a.repeated[0];
    assert_eq!(
        (r.model_name.as_str(), r.runs.as_slice(), r.repeats),
        ("a", &[1, 2, 3][..], Some(3))
    );
    assert_eq!(r.run_medians, [10.2, 10.5, 9.9]);
    let (lo, hi) = r.between_run_ci.unwrap();
    assert!(
        close(lo, 9.454758686474902) && close(hi, 10.9452413135251),
        "{lo} {hi}"
    );
    assert!(close(r.between_run_cv, 0.3 / 10.2));
    let cold: Vec<f64> = r.process_to_built_s.iter().map(|c| c.unwrap()).collect();
    assert!(
        cold.iter().zip([0.6, 0.7, 0.8]).all(|(x, y)| close(*x, y)),
        "{cold:?}"
    );
    assert!(r.within_run_half_width.unwrap() > 0.0);
    // ±t(0.975, 2)·s/√3 over the mean: (10.9452413135251 - 10.2) / 10.2.
    assert!(close(
        r.between_run_half_width.unwrap(),
        (10.9452413135251 - 10.2) / 10.2
    ));
    // Ranked run by run, and named so.
    let names: Vec<String> = a.groups[0]
        .rankings
        .fastest
        .iter()
        .map(|x| x.model_name.clone())
        .collect();
    assert!(names.contains(&"a (run 3/3)".to_owned()), "{names:?}");
    // Pairs are made within a run only: a and b of run 1, of run 2, of run 3.
    let pairs: Vec<(String, String)> = a.groups[0]
        .pairwise
        .iter()
        .map(|p| (p.model_a.clone(), p.model_b.clone()))
        .collect();
    assert_eq!(pairs.len(), 3, "{pairs:?}");
    assert!(
        pairs.iter().all(|(x, y)| x[1..] == y[1..]),
        "the same run on both sides: {pairs:?}"
    );
    let text = render(&a, None, Format::Text).unwrap();
    assert!(
        text.contains("Repeated Runs") && text.contains("10.200 [9.455, 10.945]"),
        "{text}"
    );
    // One run is not a repetition.
    let single: Vec<_> = rows
        .iter()
        .filter(|r| r.repeat_index == Some(1))
        .cloned()
        .collect();
    assert!(
        analyze(&single, &AnalysisConfig::default())
            .unwrap()
            .repeated
            .is_empty()
    );
}
