//! `analyze-latency`: ranks and compares bert-latency results files.
fn main() {}
