//! A downstream crate that benchmarks its own function with `timing-core`.
//!
//! Run it with `cargo run --release -p embed-timing-core`. It times two ways to sum the squares of
//! a vector, prints each one's summary, and compares them. Copy this file as a starting point: it
//! uses only the public API (harness, summary, comparison), with the wall clock and no fence,
//! since nothing here runs on a device.

use std::hint::black_box;
use std::time::Duration;

use timing_core::stats::{self, CompareConfig, Samples, Summary, SummaryConfig};
use timing_core::{Adaptive, Harness, HarnessConfig, StopRule, Warmup};

fn sum_squares_loop(values: &[f64]) -> f64 {
    let mut total = 0.0;
    for v in values {
        total += v * v;
    }
    total
}

fn sum_squares_chunked(values: &[f64]) -> f64 {
    // Four independent accumulators let the CPU overlap the additions.
    let mut acc = [0.0; 4];
    let chunks = values.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().map(|v| v * v).sum();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v * v;
        }
    }
    acc.iter().sum::<f64>() + rest
}

/// Times `f` until the median's 95% interval is within 2% (or 3 s pass), in batches of 10 calls.
fn measure(f: impl Fn() -> f64) -> Result<Samples, timing_core::Error> {
    let config = HarnessConfig {
        warmup: Warmup {
            min_iters: 20,
            min_time: Duration::from_millis(50),
            ..Warmup::default()
        },
        stop: StopRule::Adaptive(Adaptive {
            min_samples: 100,
            max_time: Duration::from_secs(3),
            ..Adaptive::default()
        }),
        calls_per_sample: 10,
        ..HarnessConfig::default()
    };
    let measurement = Harness::new(config)?.run(|| {
        black_box(f());
    });
    println!(
        "  {} samples, stopped because {:?} (target met: {:?})",
        measurement.samples.len(),
        measurement.stop_reason,
        measurement.target_met()
    );
    Samples::new(measurement.samples_ms())
}

fn main() -> Result<(), timing_core::Error> {
    let values: Vec<f64> = (0..100_000).map(|i| f64::from(i) * 1e-3).collect();
    assert_eq!(
        sum_squares_loop(&values).round(),
        sum_squares_chunked(&values).round()
    );

    println!("loop:");
    let a = measure(|| sum_squares_loop(black_box(&values)))?;
    println!("chunked:");
    let b = measure(|| sum_squares_chunked(black_box(&values)))?;
    for (name, samples) in [("loop", &a), ("chunked", &b)] {
        let s = Summary::new(samples, &SummaryConfig::default());
        let (low, high) = s.median_ci.bounds().unwrap_or((f64::NAN, f64::NAN));
        println!(
            "{name:>8}: median {:.4} ms [{low:.4}, {high:.4}], p99 {:.4} ms{}, {} mild / {} severe outliers",
            s.median,
            s.p99,
            if s.is_supported("p99") {
                ""
            } else {
                " (too few samples)"
            },
            s.outliers.mild(),
            s.outliers.severe(),
        );
    }
    let c = stats::compare(&b, &a, &CompareConfig::default())?;
    let (low, high) = c.ratio_ci.bounds().unwrap_or((f64::NAN, f64::NAN));
    println!(
        "chunked / loop: {:.3} [{low:.3}, {high:.3}], p = {:.2e}: chunked is {}",
        c.ratio, c.p_value, c.verdict
    );
    Ok(())
}
