use timing_core::stats::{Samples, Summary, SummaryConfig, mann_whitney_u, parse_lines};

use crate::{assert_close, data, expected};

fn load(name: &str) -> Samples {
    parse_lines(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

fn check_summary(s: &Summary, want: &serde_json::Value) {
    assert_eq!(s.n as u64, want["n"].as_u64().unwrap());
    let fields = [
        ("mean", s.mean),
        ("median", s.median),
        ("std", s.std),
        ("min", s.min),
        ("max", s.max),
        ("p50", s.p50),
        ("p90", s.p90),
        ("p95", s.p95),
        ("p99", s.p99),
        ("p999", s.p999),
        ("iqr", s.iqr),
        ("mad", s.mad),
    ];
    for (key, got) in fields {
        assert_close(key, Some(got), want);
    }
    assert_close("median_ci_low", s.median_ci.low, want);
    assert_close("median_ci_high", s.median_ci.high, want);
    assert_close("p99_ci_low", s.p99_ci.low, want);
    assert_close("p99_ci_high", s.p99_ci.high, want);
    let o = &s.outliers;
    let counts = [
        ("outliers_low_severe", o.low_severe),
        ("outliers_low_mild", o.low_mild),
        ("outliers_high_mild", o.high_mild),
        ("outliers_high_severe", o.high_severe),
    ];
    for (key, got) in counts {
        assert_eq!(got as u64, want[key].as_u64().unwrap(), "{key}");
    }
}

#[test]
fn latencies_a_match_numpy_and_scipy() {
    let s = Summary::new(&load("latencies_a.txt"), &SummaryConfig::default());
    check_summary(&s, &expected()["a"]);
    // 1,000 samples support p90/p95/p99 (64/130/662 needed) but not p99.9 (6,636).
    assert_eq!(s.unsupported_percentiles, vec!["p999"]);
    assert!(s.mean_ci.contains(s.mean));
}

#[test]
fn latencies_b_match_numpy_and_scipy() {
    let s = Summary::new(&load("latencies_b.txt"), &SummaryConfig::default());
    check_summary(&s, &expected()["b"]);
}

#[test]
fn five_samples_match_and_flag_every_tail_percentile() {
    let samples = Samples::new(vec![3.5, 1.25, 2.0, 8.0, 2.5]).unwrap();
    let s = Summary::new(&samples, &SummaryConfig::default());
    check_summary(&s, &expected()["small"]);
    assert_eq!(s.unsupported_percentiles, vec!["p90", "p95", "p99", "p999"]);
    assert!(!s.is_supported("p90") && s.is_supported("p50"));
}

#[test]
fn mann_whitney_matches_scipy() {
    let r = mann_whitney_u(&load("latencies_a.txt"), &load("latencies_b.txt"));
    let want = &expected()["a_vs_b"];
    assert_close("u", Some(r.u), want);
    // p ~ 1e-20: the normal tail is the hard part, so allow 1e-9 relative as everywhere else.
    assert_close("p_value", Some(r.p_value), want);
}

#[test]
fn wilcoxon_signed_rank_matches_scipy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/wilcoxon_expected.json"
    );
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for (name, case) in cases.as_object().unwrap() {
        let d: Vec<f64> = case["differences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let w = timing_core::stats::wilcoxon(&d);
        assert_eq!(w.n as u64, case["n"].as_u64().unwrap(), "{name}");
        assert_eq!(w.exact, case["exact"].as_bool().unwrap(), "{name}");
        assert_eq!(w.statistic, case["statistic"].as_f64().unwrap(), "{name}");
        let want = case["p_value"].as_f64().unwrap();
        assert!(
            ((w.p_value - want) / want).abs() < 1e-9,
            "{name}: p {} vs scipy {want}",
            w.p_value
        );
    }
}

#[test]
fn paired_rounds_see_through_drift_that_fools_an_independent_comparison() {
    use timing_core::stats::{CompareConfig, Verdict};
    // Two identical routines measured in 60 alternating rounds while the machine slows down
    // linearly by 30%; a's sample in each round comes just before b's. Taken as independent
    // sets split in time (a first, then b: a sequential run), a looks faster; paired, the
    // per-round ratios are ~1 and the verdict is equivalent.
    let base = |t: f64| 10.0 * (1.0 + 0.3 * t);
    let wobble = |i: usize| 1.0 + 0.002 * (((i * 37) % 11) as f64 - 5.0) / 5.0;
    let rounds = 60;
    let a: Vec<f64> = (0..rounds)
        .map(|i| base(i as f64 / 120.0) * wobble(i))
        .collect();
    let b: Vec<f64> = (0..rounds)
        .map(|i| base((i as f64 + 0.01) / 120.0) * wobble(i + 3))
        .collect();
    let paired = timing_core::stats::compare_paired(&a, &b, &CompareConfig::default()).unwrap();
    assert_eq!(paired.verdict, Verdict::Equivalent, "{paired:?}");
    // The sequential design: all of a's batches, then all of b's, on the same drift.
    let later_b: Vec<f64> = (0..rounds)
        .map(|i| base((i + rounds) as f64 / 120.0) * wobble(i + 3))
        .collect();
    let independent = timing_core::stats::compare(
        &Samples::new(a.clone()).unwrap(),
        &Samples::new(later_b).unwrap(),
        &CompareConfig::default(),
    )
    .unwrap();
    assert_eq!(independent.verdict, Verdict::Faster, "{independent:?}");
    // A real 5% difference under the same drift is found by the paired design.
    let slower: Vec<f64> = b.iter().map(|x| x * 1.05).collect();
    let found = timing_core::stats::compare_paired(&slower, &b, &CompareConfig::default()).unwrap();
    assert_eq!(found.verdict, Verdict::Slower, "{found:?}");
}

#[test]
fn student_t_and_the_between_run_interval_match_scipy() {
    use timing_core::stats::{Level, between_runs, student_t_quantile, student_t_sf};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/t_expected.json");
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let close = |got: f64, want: f64, tol: f64| (got - want).abs() <= tol * want.abs().max(1e-300);
    for case in want["quantiles"].as_array().unwrap() {
        let (p, df) = (case["p"].as_f64().unwrap(), case["df"].as_f64().unwrap());
        let t = case["t"].as_f64().unwrap();
        let got = student_t_quantile(p, df);
        assert!(
            close(got, t, 1e-9) || (t == 0.0 && got.abs() < 1e-12),
            "ppf({p}, {df}) = {got}, scipy {t}"
        );
        let sf = case["sf_at_1_5"].as_f64().unwrap();
        assert!(
            close(student_t_sf(1.5, df), sf, 1e-10),
            "sf(1.5, {df}) = {}, scipy {sf}",
            student_t_sf(1.5, df)
        );
    }
    for case in want["runs"].as_array().unwrap() {
        let values: Vec<f64> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let r = between_runs(&values, Level::default()).unwrap();
        for (name, got) in [
            ("mean", r.mean),
            ("std", r.std_dev),
            ("low", r.ci.low.unwrap()),
            ("high", r.ci.high.unwrap()),
        ] {
            let w = case[name].as_f64().unwrap();
            assert!(
                close(got, w, 1e-9) || (w == 0.0 && got.abs() < 1e-12),
                "{name}: {got} vs {w}"
            );
        }
        assert_eq!(r.runs, values.len());
    }
    // One run: no interval; nothing or a NaN: an error.
    assert!(
        between_runs(&[5.0], Level::default())
            .unwrap()
            .ci
            .bounds()
            .is_none()
    );
    assert!(between_runs(&[], Level::default()).is_err());
    assert!(between_runs(&[1.0, f64::NAN], Level::default()).is_err());
    assert!(student_t_quantile(1.0, 3.0).is_nan() && student_t_quantile(0.5, 0.0).is_nan());
}
