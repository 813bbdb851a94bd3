//! `analyze-latency`: ranks and compares bert-latency results files.
//!
//! The analysis itself (rankings per shape, pairwise speedups with intervals, baselines) lives in
//! the `report` crate and lands with its issue; until then this binary accepts the Python
//! analyzer's arguments and says plainly that it cannot analyse yet.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Rank and compare latency results (CSV or JSON from latency-analysis or the Python tool).
#[derive(Debug, Parser)]
#[command(name = "analyze-latency", version, about, long_about = None)]
struct Args {
    /// Results files (.csv or .json).
    #[arg(required = true, value_name = "RESULTS")]
    results: Vec<PathBuf>,
    /// Write the report to --output-file as well.
    #[arg(long)]
    save_analysis: bool,
    /// Where --save-analysis writes the report.
    #[arg(long, default_value = "analysis_report.txt", value_name = "PATH")]
    output_file: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    eprintln!(
        "analyze-latency: cannot analyse {} file(s) yet: the results schema and analysis are not \
         implemented in this version",
        args.results.len()
    );
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Args;

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }
}
