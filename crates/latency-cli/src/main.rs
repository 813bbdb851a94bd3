//! `latency-analysis`: measures the inference latency of BERT-family encoders.
//!
//! The binary is glue: `args` parses the flags, `smoke` runs what exists so far, and every
//! measurement and statistic comes from the libraries (`timing-core`, `model-zoo`).

mod args;
mod smoke;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Args::parse();
    match smoke::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("latency-analysis: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
