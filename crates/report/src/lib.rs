//! Results files and their analysis for bert-latency.
//!
//! Data flows through four parts:
//!
//! 1. [`ResultRow`] ([`schema`]): one record per (model, batch size, sequence length, device,
//!    dtype). Its first 18 fields are the Python tool's, in its order and units, then ours.
//! 2. [`io`]: reading CSV and JSON files (ours and the Python tool's, several at once), and
//!    [`io::ResultsWriter`], which rewrites both files atomically after every record.
//! 3. [`analysis`]: the Python analyzer's sections (summary, rankings, model types, efficiency,
//!    pairwise comparisons), computed with polars within each shape group, with intervals and
//!    verdicts where raw latencies exist; and [`analysis::compare_to_baseline`] for CI gates.
//! 4. [`export`] and [`plot`]: the report as text, markdown or JSON, and SVG charts.
//!
//! It has no libtorch dependency.
//!
//! ```
//! use report::{ResultRow, analysis};
//!
//! let row = |name: &str, mean: f64| ResultRow {
//!     model_name: name.into(), model_type: "hf_bert".into(), batch_size: 8, sequence_length: 512,
//!     num_samples: 1000, mean_latency: mean, median_latency: mean, tokens_per_second: 4096.0 / mean * 1e3,
//!     ..ResultRow::default()
//! };
//! let rows = [row("a", 50.0), row("b", 40.0)];
//! let result = analysis::analyze(&rows, &analysis::AnalysisConfig::default())?;
//! assert_eq!(result.groups[0].rankings.fastest[0].model_name, "b");
//! assert_eq!(result.groups[0].pairwise[0].latency_speedup, 40.0 / 50.0);
//! # Ok::<(), report::Error>(())
//! ```
#![deny(missing_docs)]

pub mod analysis;
mod error;
pub mod export;
pub mod io;
pub mod manifest;
pub mod merge;
pub mod plot;
pub mod record;
pub mod schema;
mod table;

pub use crate::error::{Error, Result};
pub use crate::schema::{RecordKey, ResultRow, Shape};
