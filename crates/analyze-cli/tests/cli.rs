//! Runs the real `analyze-latency` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use report::ResultRow;
use report::io::ResultsWriter;

fn analyze(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .args(args)
        .output()
        .unwrap()
}

fn python_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../report/tests/data/python_tool.csv")
}

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("analyze-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A record with raw latencies spread ±3% around `center` ms.
fn record(name: &str, seq: u64, center: f64, phase: usize) -> ResultRow {
    let n = 200;
    let latencies: Vec<f64> = (0..n)
        .map(|i| center * (0.97 + 0.06 * (((i * 37 + phase) % n) as f64 / n as f64)))
        .collect();
    let mean = latencies.iter().sum::<f64>() / n as f64;
    ResultRow {
        model_name: name.into(),
        model_type: "hf_bert".into(),
        batch_size: 1,
        sequence_length: seq,
        num_samples: 1000,
        mean_latency: mean,
        median_latency: center,
        std_latency: 0.5,
        min_latency: center * 0.97,
        max_latency: center * 1.03,
        p95_latency: center,
        p99_latency: center,
        tokens_per_second: seq as f64 / (mean / 1e3),
        samples_per_second: 1.0 / (mean / 1e3),
        device: Some("cpu".into()),
        dtype: Some("fp32".into()),
        latencies_ms: Some(latencies),
        ..ResultRow::default()
    }
}

fn write(path: &Path, rows: Vec<ResultRow>) {
    let mut writer = ResultsWriter::new(path.with_extension("csv")).unwrap();
    for row in rows {
        writer.append(row).unwrap();
    }
    assert!(path.exists());
}

#[test]
fn analyses_a_python_tool_file() {
    let out = analyze(&[&python_csv()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for heading in [
        "Summary",
        "Performance Rankings (top 5)",
        "Model Type Comparison",
        "Efficiency Analysis (top 3)",
        "Pairwise Comparisons",
    ] {
        assert!(text.contains(heading), "missing {heading}:\n{text}");
    }
    assert!(text.contains("flex-bert-base"));
}

#[test]
fn save_analysis_writes_the_whole_report() {
    let dir = temp_dir("save");
    let report = dir.join("analysis_report.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .arg(python_csv())
        .args(["--save-analysis", "--format", "markdown", "--output-file"])
        .arg(&report)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let saved = std::fs::read_to_string(&report).unwrap();
    assert_eq!(saved, stdout(&out));
    assert!(saved.contains("## Pairwise Comparisons") && saved.lines().count() > 40);
}

#[test]
fn json_format_is_machine_readable() {
    let out = Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .arg(python_csv())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["groups"][0]["pairwise"].as_array().unwrap().len(), 6);
    assert!(json["baseline"].is_null());
}

#[test]
fn baseline_gate_exits_1_on_a_regression_and_0_on_noise() {
    let dir = temp_dir("gate");
    let base = dir.join("base.json");
    write(
        &base,
        vec![record("a", 128, 10.0, 0), record("b", 128, 20.0, 0)],
    );
    let noisy = dir.join("noisy.json");
    write(
        &noisy,
        vec![record("a", 128, 10.02, 11), record("b", 128, 19.97, 5)],
    );
    let slow = dir.join("slow.json");
    write(
        &slow,
        vec![record("a", 128, 11.0, 3), record("b", 128, 20.0, 1)],
    );

    let out = Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .arg(&noisy)
        .arg("--baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("0 regression(s)"));

    let out = Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .arg(&slow)
        .arg("--baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("REGRESSION") && stdout(&out).contains("1 regression(s)"));

    // A 10% slowdown passes a 15% threshold.
    let out = Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .arg(&slow)
        .args(["--threshold", "0.15", "--baseline"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn plot_writes_svg_charts() {
    let dir = temp_dir("plot");
    let results = dir.join("r.json");
    write(
        &results,
        vec![
            record("a", 128, 10.0, 0),
            record("a", 512, 30.0, 0),
            record("b", 128, 12.0, 0),
            record("b", 512, 33.0, 0),
        ],
    );
    let charts = dir.join("charts");
    let out = Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .arg(&results)
        .arg("--plot")
        .arg(&charts)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(&charts)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "latency_distribution_b1_s128_cpu_fp32_full_forward_unknown-machine.svg",
            "latency_distribution_b1_s512_cpu_fp32_full_forward_unknown-machine.svg",
            "latency_vs_sequence_length.svg"
        ]
    );
    for name in names {
        let svg = std::fs::read_to_string(charts.join(&name)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{name}");
    }
}

#[test]
fn bad_input_is_a_clear_error_with_status_2() {
    let dir = temp_dir("bad");
    let txt = dir.join("results.txt");
    std::fs::write(&txt, "x").unwrap();
    let out = analyze(&[&txt]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("results.txt: unsupported results format"),
        "{}",
        stderr(&out)
    );

    let bad = dir.join("bad.csv");
    let text = std::fs::read_to_string(python_csv())
        .unwrap()
        .replacen("45.23", "fast", 1);
    std::fs::write(&bad, text).unwrap();
    let out = analyze(&[&bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.csv: line 2, field 'mean_latency': 'fast' is not a number"),
        "{}",
        stderr(&out)
    );

    let out = analyze(&[Path::new("/nonexistent/r.json")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nonexistent/r.json"));
}

/// Issue 13, items 6 and 7: a file written by Python's json module, with NaN power readings and a
/// record whose raw latencies hold a NaN, is analysed; that record is noted once on stderr and
/// once in the report, and nothing aborts.
#[test]
fn issue_13_python_json_with_nan_is_analysed_and_the_bad_record_noted_once() {
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../report/tests/data/python_nan.json");
    let out = analyze(&[&file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let note = "record 3 (model hf-bert-base, batch 8 x seq 512, unknown, unknown";
    assert_eq!(stderr(&out).matches(note).count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no raw latencies usable: element 2 is NaN, not a finite number"),
        "{}",
        stderr(&out)
    );
    let report = stdout(&out);
    assert_eq!(report.matches(note).count(), 1, "{report}");
    assert!(report.contains("NaN-model \"Infinity\" é"), "{report}");
}

fn analyze_with(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .args(args)
        .output()
        .unwrap()
}

/// Issue 13, item 8: `new.csv --baseline old.csv` with one model 50% slower exits 1 (CSV files
/// have no raw latencies: the recorded medians decide, marked untested).
#[test]
fn issue_13_csv_gate_fails_closed_on_a_50_percent_slowdown() {
    let dir = temp_dir("csv-gate");
    let old = dir.join("old.csv");
    write(
        &old,
        vec![record("a", 128, 10.0, 0), record("b", 128, 20.0, 0)],
    );
    let new = dir.join("new.csv");
    write(
        &new,
        vec![record("a", 128, 15.0, 0), record("b", 128, 20.1, 0)],
    );
    let out = analyze_with(&[new.as_os_str(), "--baseline".as_ref(), old.as_os_str()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("REGRESSION (untested: medians)") && text.contains("+50.0%"),
        "{text}"
    );
    assert!(
        text.contains("within the threshold (untested: medians)"),
        "{text}"
    );
    assert!(text.contains("1 regression(s)"), "{text}");

    // The same files within a 60% threshold pass.
    let out = analyze_with(&[
        new.as_os_str(),
        "--threshold".as_ref(),
        "0.6".as_ref(),
        "--baseline".as_ref(),
        old.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn issue_13_baseline_without_a_match_or_with_duplicates_exits_2() {
    let dir = temp_dir("no-match");
    let new = dir.join("new.csv");
    write(&new, vec![record("flex-bert-base", 512, 45.0, 0)]);
    let out = analyze_with(&[
        new.as_os_str(),
        "--baseline".as_ref(),
        python_csv().as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("comparing")
            && err.contains("new.csv with the baseline")
            && err.contains("nearest: record 1 (model flex-bert-base")
            && err.contains("batch_size ('1' here, '8' in the baseline)")
            && err.contains("a Python-tool file?"),
        "{err}"
    );

    let twice = dir.join("twice.csv");
    write(
        &twice,
        vec![record("a", 128, 10.0, 0), record("a", 128, 11.0, 0)],
    );
    let out = analyze_with(&[new.as_os_str(), "--baseline".as_ref(), twice.as_os_str()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("the baseline's records 1 and 2 both measure model a"),
        "{}",
        stderr(&out)
    );
}

/// Issue 13, item 9: records of two machines are ranked apart unless --ignore-machine.
#[test]
fn issue_13_machines_are_grouped_apart_unless_ignore_machine() {
    let dir = temp_dir("machines");
    let on = |name: &str, host: &str, center: f64| ResultRow {
        host_name: Some(host.into()),
        device_name: Some("Intel Xeon".into()),
        num_threads: Some(2),
        ..record(name, 128, center, 0)
    };
    let results = dir.join("r.json");
    write(
        &results,
        vec![on("a", "node-1", 10.0), on("a", "node-2", 20.0)],
    );
    let out = analyze_with(&[results.as_os_str(), "--format".as_ref(), "json".as_ref()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["groups"].as_array().unwrap().len(), 2);
    assert_eq!(json["groups"][1]["shape"]["machine"]["host_name"], "node-2");

    let out = analyze_with(&[
        results.as_os_str(),
        "--ignore-machine".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["groups"].as_array().unwrap().len(), 1);
    assert_eq!(json["groups"][0]["pairwise"].as_array().unwrap().len(), 1);

    let help = analyze_with(&["--help".as_ref()]);
    assert!(
        stdout(&help).contains("--ignore-machine"),
        "{}",
        stdout(&help)
    );
}

#[test]
fn plotting_a_python_json_file_with_nan_latencies_does_not_fail() {
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../report/tests/data/python_nan.json");
    let charts = temp_dir("plot-nan").join("charts");
    let out = analyze_with(&[file.as_os_str(), "--plot".as_ref(), charts.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A sweep of 4 jobs (models a, b at seq 128 and 512) in 2 shards of plan `hash`, written as
/// latency-analysis writes them into an --output-dir: results and manifests.
fn sharded_sweep(dir: &Path, hash: &str, shards: &[usize]) {
    let jobs: Vec<(String, ResultRow)> = ["a", "b"]
        .iter()
        .flat_map(|m| [128, 512].map(|seq| (*m, seq)))
        .enumerate()
        .map(|(i, (m, seq))| {
            let mut row = record(m, seq, 10.0 + i as f64, i);
            row.job_id = Some(format!("{hash}-job{i}"));
            row.plan_hash = Some(hash.to_owned());
            (format!("{m} (batch 1, seq {seq})"), row)
        })
        .collect();
    let plan_jobs: Vec<serde_json::Value> = jobs
        .iter()
        .enumerate()
        .map(|(i, (label, row))| {
            serde_json::json!({"id": row.job_id, "label": label, "shard": i / 2 + 1, "job": {}})
        })
        .collect();
    for &shard in shards {
        let csv = dir.join(format!("shard-{shard}-of-2.csv"));
        let rows: Vec<ResultRow> = jobs[(shard - 1) * 2..shard * 2]
            .iter()
            .map(|(_, r)| r.clone())
            .collect();
        let done: Vec<&str> = rows.iter().map(|r| r.job_id.as_deref().unwrap()).collect();
        let manifest = serde_json::json!({
            "tool_version": "0.1.0", "plan_hash": hash, "shard": format!("{shard}/2"),
            "shard_strategy": "slice", "host_name": null, "cpu_model": null, "device": "cpu",
            "device_name": null, "driver_version": null, "libtorch_version": null,
            "started": "2026-11-30T00:00:00Z", "finished": "2026-11-30T00:01:00Z",
            "interrupted": false, "plan_jobs": plan_jobs, "done": done, "failed": [],
        });
        std::fs::write(
            csv.with_extension("manifest.json"),
            serde_json::to_string_pretty(&manifest).unwrap(),
        )
        .unwrap();
        write(&csv, rows);
    }
}

#[test]
fn merging_shards_detects_a_missing_shard_a_duplicate_shard_and_a_foreign_plan() {
    let dir = temp_dir("merge");
    let complete = dir.join("complete");
    std::fs::create_dir_all(&complete).unwrap();
    sharded_sweep(&complete, "plan1", &[1, 2]);
    // The folder: one plan, every job once.
    let out = analyze(&[&complete]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("b"), "{}", stdout(&out));
    // A glob pattern over the same files.
    let pattern = complete.join("shard-*.json");
    let out = analyze(&[&pattern]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Shard 2 missing: named, exit 2; --allow-partial analyses what is there.
    let partial = dir.join("partial");
    std::fs::create_dir_all(&partial).unwrap();
    sharded_sweep(&partial, "plan1", &[1]);
    let out = analyze(&[&partial]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 of the plan's 4 jobs have no record")
            && stderr(&out).contains("b (batch 1, seq 128)"),
        "{}",
        stderr(&out)
    );
    let out = analyze_with(&[partial.as_os_str(), "--allow-partial".as_ref()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Shard 1 given twice.
    let twice = complete.join("shard-1-of-2.json");
    let out = analyze(&[&complete, &twice]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("recorded 2 times"),
        "{}",
        stderr(&out)
    );
    // A shard of another plan mixed in.
    let foreign = dir.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    sharded_sweep(&foreign, "plan2", &[2]);
    let out = analyze(&[&complete, &foreign.join("shard-2-of-2.json")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("2 different plans"),
        "{}",
        stderr(&out)
    );
}

/// Issue 15: a gate can assert "no change": `--require-equivalent` exits 1 unless every record is
/// shown equivalent within `--equivalence-margin`.
#[test]
fn require_equivalent_gates_on_shown_equivalence() {
    let dir = temp_dir("equivalent");
    let base = dir.join("base.json");
    write(
        &base,
        vec![record("a", 128, 10.0, 0), record("b", 128, 20.0, 0)],
    );
    // 0.2% and -0.15% changes: within ±1%, and not within ±0.01%.
    let same = dir.join("same.json");
    write(
        &same,
        vec![record("a", 128, 10.02, 11), record("b", 128, 19.97, 5)],
    );
    let gate = |margin: &str| {
        Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
            .arg(&same)
            .arg("--baseline")
            .arg(&base)
            .args(["--require-equivalent", "--equivalence-margin", margin])
            .output()
            .unwrap()
    };
    let out = gate("0.01");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("2 of 2 comparison(s) shown equivalent within ±1%"));
    let out = gate("0.0001");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("NOT EQUIVALENT"), "{}", stdout(&out));
    // Without a baseline the flag has nothing to gate: a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_analyze-latency"))
        .arg(&same)
        .arg("--require-equivalent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--baseline"), "{}", stderr(&out));
}
