//! `report::io::read_results` on a `.csv` results file (ours or the Python tool's): the CSV
//! parser, cell typing, the schema's deserialization and the legacy-field upgrade. A file that
//! reads must also serialize back to CSV and JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::write_temp("results.csv", data);
    if let Ok(rows) = report::io::read_results(&path) {
        report::io::to_csv(&rows).expect("rows read from CSV render as CSV");
        report::io::to_json(&rows).expect("rows read from CSV render as JSON");
    }
});
