//! Integration tests of the report crate's public API, in one binary.

/// The analysis sections on hand-written files with independently computed values.
mod analysis;
/// Reading and writing results files, including the Python tool's formats and malformed input.
mod io;
/// SVG charts: file names and labels.
mod plot;

use std::path::PathBuf;

use report::ResultRow;

/// A file under `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A fresh, empty temporary folder for one test.
pub fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("report-it-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A record of ours with raw latencies.
pub fn row(name: &str, model_type: &str, batch: u64, seq: u64, latencies: Vec<f64>) -> ResultRow {
    let n = latencies.len() as f64;
    let mean = latencies.iter().sum::<f64>() / n;
    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    ResultRow {
        model_name: name.into(),
        model_type: model_type.into(),
        batch_size: batch,
        sequence_length: seq,
        num_samples: 1000,
        mean_latency: mean,
        median_latency: median,
        std_latency: 0.1,
        min_latency: sorted[0],
        max_latency: sorted[sorted.len() - 1],
        p95_latency: median,
        p99_latency: median,
        tokens_per_second: (batch * seq) as f64 / (mean / 1e3),
        samples_per_second: batch as f64 / (mean / 1e3),
        peak_memory_mb: Some(100.0),
        device: Some("cpu".into()),
        dtype: Some("fp32".into()),
        memory_kind: Some("host".into()),
        latencies_ms: Some(latencies),
        ..ResultRow::default()
    }
}

/// `n` deterministic latencies spread ±`spread` (relative) around `center` ms.
pub fn latencies(center: f64, spread: f64, n: usize, phase: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            center * (1.0 - spread + 2.0 * spread * (((i * 37 + phase) % n) as f64 / n as f64))
        })
        .collect()
}
