use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::{assert_close, data, expected};

/// The `summarize` example, which `cargo test` builds beside the test binaries.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join("summarize");
    assert!(
        path.exists(),
        "{} is missing; run the tests with `cargo test`",
        path.display()
    );
    path
}

fn summarize(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(example())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A run that fails on its arguments may exit before reading its input: a closed pipe here
    // is that, not a test failure (the exit status and message are checked by the caller).
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn prints_the_summary_as_json() {
    let input = std::fs::read(data("latencies_a.txt")).unwrap();
    let got = json(&summarize(&[], &input));
    let want = &expected()["a"];
    for key in [
        "mean",
        "median",
        "std",
        "min",
        "max",
        "p50",
        "p90",
        "p95",
        "p99",
        "p999",
        "iqr",
        "median_ci_low",
        "median_ci_high",
        "p99_ci_low",
        "p99_ci_high",
    ] {
        assert_close(key, got[key].as_f64(), want);
    }
    assert_eq!(got["n"], 1000);
    let mild =
        want["outliers_low_mild"].as_u64().unwrap() + want["outliers_high_mild"].as_u64().unwrap();
    let severe = want["outliers_low_severe"].as_u64().unwrap()
        + want["outliers_high_severe"].as_u64().unwrap();
    assert_eq!(
        (
            got["outliers_mild"].as_u64(),
            got["outliers_severe"].as_u64()
        ),
        (Some(mild), Some(severe))
    );
    assert!(got.get("ratio").is_none());
}

#[test]
fn missing_intervals_are_null() {
    let got = json(&summarize(&[], b"3.5\n1.25\n2.0\n8.0\n2.5\n"));
    assert!(got["median_ci_low"].is_null() && got["median_ci_high"].is_null());
    assert!(got["p99_ci_high"].is_null());
    assert_eq!(got["p99_ci_low"], 3.5);
}

#[test]
fn compares_against_a_file() {
    let input = std::fs::read(data("latencies_a.txt")).unwrap();
    let b = data("latencies_b.txt");
    let got = json(&summarize(&["--compare", b.to_str().unwrap()], &input));
    let want = &expected()["a_vs_b"];
    assert_close("ratio", got["ratio"].as_f64(), want);
    assert_close("p_value", got["p_value"].as_f64(), want);
    let (low, high) = (
        got["ratio_ci_low"].as_f64().unwrap(),
        got["ratio_ci_high"].as_f64().unwrap(),
    );
    assert!(low < want["ratio"].as_f64().unwrap() && want["ratio"].as_f64().unwrap() < high);
    // A is ~4% faster than B with 1,700 samples: significant and beyond the 2% threshold.
    assert_eq!(got["verdict"], "faster");
    // Against itself: the same medians, and the bootstrap interval of the ratio lies within the
    // default ±2% margin: equivalent.
    let a = data("latencies_a.txt");
    let same = json(&summarize(&["--compare", a.to_str().unwrap()], &input));
    assert_eq!(same["verdict"], "equivalent");
    assert_eq!(same["ratio"], 1.0);
    let (low, high) = (
        same["ratio_ci_low"].as_f64().unwrap(),
        same["ratio_ci_high"].as_f64().unwrap(),
    );
    assert!(
        low >= 0.98 && high <= 1.02 && low < 1.0 && high > 1.0,
        "[{low}, {high}]"
    );
}

#[test]
fn bad_input_names_the_line_and_exits_2() {
    let out = summarize(&[], b"1.0\n2.0\n\nfast\n");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 4: 'fast' is not a number"),
        "{stderr}"
    );

    let out = summarize(&[], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no samples"));

    let out = summarize(&["--compare", "/nonexistent/b.txt"], b"1\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/b.txt"));

    let out = summarize(&["--level", "1.5"], b"1\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("confidence level 1.5"));
}
