//! Latency measurement and statistics for bert-latency, with no libtorch dependency.
//!
//! The data flow has two halves, and either can be used alone:
//!
//! 1. **Measuring.** A [`HarnessConfig`] says how to warm up ([`Warmup`]: a minimum count *and*
//!    time, optionally until [`SteadyState`], bounded by a maximum time), when to stop
//!    ([`StopRule`]: a fixed count, a time budget, or [`Adaptive`] stopping on the width of a
//!    confidence interval) and whether one sample is one call or a batch of calls. A [`Harness`]
//!    runs a routine under it, calling the caller's fence (a CUDA synchronize, or nothing on the
//!    CPU) around every sample, and returns a [`Measurement`]: warm-up and measured timings, and
//!    why it stopped.
//! 2. **Analysing.** [`stats::Samples`] validates a sample set once; [`stats::Summary`] gives its
//!    mean, median, standard deviation, numpy-compatible percentiles, IQR, MAD, Tukey outliers,
//!    and confidence intervals (distribution-free for quantiles, seeded bootstrap for the mean),
//!    flagging percentiles the sample count cannot support; [`stats::compare`] compares two sets
//!    (ratio of medians with an interval, Mann-Whitney U, and a verdict).
//! 3. **Interleaving.** An [`Interleaver`] measures several routines in alternating rounds, so
//!    that drift falls on all alike; [`stats::compare_paired`] compares their round values
//!    (Wilcoxon signed-rank, and an equivalence verdict).
//!
//! ```
//! use timing_core::{Harness, HarnessConfig, StopRule, stats};
//!
//! let config = HarnessConfig { stop: StopRule::Count(50), ..HarnessConfig::default() };
//! let mut harness = Harness::new(config)?.with_fence(|| { /* e.g. a device synchronize */ });
//! let measurement = harness.run(|| {
//!     std::hint::black_box((0..1_000u64).sum::<u64>());
//! });
//! let samples = stats::Samples::new(measurement.samples_ms())?;
//! let summary = stats::Summary::new(&samples, &stats::SummaryConfig::default());
//! assert_eq!(summary.n, 50);
//! assert!(summary.min <= summary.median && summary.median <= summary.max);
//! assert!(!summary.is_supported("p99")); // 50 samples cannot support a p99
//! # Ok::<(), timing_core::Error>(())
//! ```
#![deny(missing_docs)]

mod clock;
mod config;
mod error;
mod harness;
mod interleave;
pub mod stats;

pub use crate::clock::{Clock, WallClock};
pub use crate::config::{Adaptive, HarnessConfig, Statistic, SteadyState, StopRule, Warmup};
pub use crate::error::{Error, Result};
pub use crate::harness::{Harness, Measurement, Phase, Progress, StopReason};
pub use crate::interleave::{InterleaveConfig, Interleaved, Interleaver};
