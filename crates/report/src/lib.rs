//! Results files and their analysis for bert-latency.
//!
//! `report` owns the results schema that `latency-analysis` writes and everyone else reads (the
//! Python tool's 18 fields first, in its order, then ours), reading and writing it as CSV and JSON
//! (atomically, one record at a time), and the analysis behind `analyze-latency`: rankings within
//! each shape, pairwise speedups with confidence intervals, and baseline gates. It has no libtorch
//! dependency. The schema and analysis land with their own issue; this crate is their home.
#![deny(missing_docs)]
