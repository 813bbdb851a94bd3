//! Integration tests of timing-core's public API, in one binary.

/// Summaries checked against numpy/scipy values in `tests/data/expected.json`.
mod golden;
/// The harness, with a scripted clock and with a sleeping routine.
mod harness;
/// Interleaved rounds against sequential runs under drift, on a scripted clock.
mod interleave;
/// Invariants that must hold for any input (proptest).
mod properties;
/// The `summarize` example program, run as a user would.
mod summarize;

use std::path::PathBuf;

/// A file under `tests/data`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// `expected.json`, parsed.
pub fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(data("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Asserts that `got` equals the reference number or null at `key` of `want`, to 1e-9 relative.
pub fn assert_close(key: &str, got: Option<f64>, want: &serde_json::Value) {
    let want = want
        .get(key)
        .unwrap_or_else(|| panic!("no key {key} in the reference"));
    match (got, want.as_f64()) {
        (None, None) => assert!(want.is_null(), "{key}: reference is {want}"),
        (Some(got), Some(want)) => assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1e-12),
            "{key}: got {got}, numpy/scipy say {want}"
        ),
        (got, _) => panic!("{key}: got {got:?}, numpy/scipy say {want}"),
    }
}
