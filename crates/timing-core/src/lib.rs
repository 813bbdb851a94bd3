//! Latency measurement and statistics for bert-latency, with no libtorch dependency.
#![deny(missing_docs)]
