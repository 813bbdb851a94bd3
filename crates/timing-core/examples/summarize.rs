//! Summarize latency samples from standard input, as one JSON object.
//!
//! ```text
//! cargo run -p timing-core --example summarize < a.txt
//! cargo run -p timing-core --example summarize -- --compare b.txt < a.txt
//! ```
//!
//! Input: one sample per line, in milliseconds (any decimal notation; blank lines are skipped).
//! Output keys: the summary (`n, mean, median, std, min, max, p50, p90, p95, p99, p999, iqr, mad,
//! cv`), intervals (`mean_ci_*`, `median_ci_*`, `p99_ci_*`; `null` where n cannot support them),
//! Tukey outlier counts, `unsupported_percentiles`, and with `--compare FILE` the comparison of
//! stdin (A) against FILE (B): `ratio` (median A / median B), `ratio_ci_*`, `p_value`, `verdict`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::{Value, json};
use timing_core::stats::{self, Bootstrap, CompareConfig, Level, Summary, SummaryConfig};

/// Summarize latency samples (ms, one per line on stdin) as JSON.
#[derive(Debug, Parser)]
struct Args {
    /// Compare stdin (A) against the samples in FILE (B).
    #[arg(long, value_name = "FILE")]
    compare: Option<PathBuf>,
    /// Confidence level of every interval.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Relative change under which a comparison says "no difference".
    #[arg(long, default_value_t = 0.02)]
    threshold: f64,
    /// Seed of the bootstrap resampling.
    #[arg(long, default_value_t = Bootstrap::default().seed)]
    seed: u64,
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("summarize: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<Value> {
    let level = Level::new(args.level)?;
    let bootstrap = Bootstrap {
        seed: args.seed,
        ..Bootstrap::default()
    };
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading standard input")?;
    let a = stats::parse_lines(&text).context("standard input")?;
    let summary = Summary::new(&a, &SummaryConfig { level, bootstrap });
    let mut out = summary_json(&summary);
    if let Some(path) = &args.compare {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let b = stats::parse_lines(&text).with_context(|| path.display().to_string())?;
        let config = CompareConfig {
            level,
            threshold: args.threshold,
            margin: None,
            bootstrap,
        };
        let c = stats::compare(&a, &b, &config)?;
        let fields = json!({
            "ratio": c.ratio,
            "ratio_ci_low": c.ratio_ci.low,
            "ratio_ci_high": c.ratio_ci.high,
            "p_value": c.p_value,
            "verdict": c.verdict,
            "threshold": args.threshold,
            "b_n": b.len(),
            "b_median": b.median(),
        });
        merge(&mut out, fields);
    }
    Ok(out)
}

fn summary_json(s: &Summary) -> Value {
    json!({
        "n": s.n, "mean": s.mean, "median": s.median, "std": s.std, "min": s.min, "max": s.max,
        "p50": s.p50, "p90": s.p90, "p95": s.p95, "p99": s.p99, "p999": s.p999,
        "iqr": s.iqr, "mad": s.mad, "cv": s.cv,
        "level": s.median_ci.level,
        "mean_ci_low": s.mean_ci.low, "mean_ci_high": s.mean_ci.high,
        "median_ci_low": s.median_ci.low, "median_ci_high": s.median_ci.high,
        "p99_ci_low": s.p99_ci.low, "p99_ci_high": s.p99_ci.high,
        "outliers_mild": s.outliers.mild(), "outliers_severe": s.outliers.severe(),
        "outliers_low_mild": s.outliers.low_mild, "outliers_low_severe": s.outliers.low_severe,
        "outliers_high_mild": s.outliers.high_mild, "outliers_high_severe": s.outliers.high_severe,
        "unsupported_percentiles": s.unsupported_percentiles,
    })
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}
