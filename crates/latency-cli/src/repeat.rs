//! `--repeat K`: the plan run K times, each run in a fresh process of this program, the K runs'
//! records merged into the results file, and each job's spread across runs printed.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;

use anyhow::{Context, Result, bail};
use report::ResultRow;
use report::io::{ResultsWriter, read_results, to_csv, to_json, write_atomic};
use report::manifest::Manifest;

use crate::args::Args;
use crate::files;
use crate::output::{self, Output};

/// Runs `args` K times (`--repeat K`), each with `--repeat-run I/K`, then merges the runs.
/// Exit status: 0 when every run succeeded, 1 when one had failed jobs, 130 when interrupted
/// (the runs finished so far are merged).
///
/// # Errors
/// The output folder cannot be written, this program cannot be started again, a run fails with
/// an error (its files are kept), or the runs' files cannot be read back.
pub fn run(args: &Args, out: &Output) -> Result<ExitCode> {
    let k = args.repeat;
    let csv = args.output_file.clone();
    // Check the output location before the first run, as a single run does.
    ResultsWriter::new(&csv)?
        .prepare()
        .with_context(|| format!("results file {}", csv.display()))?;
    let program = std::env::current_exe().context("finding this program to run it again")?;
    let original: Vec<OsString> = std::env::args_os().skip(1).collect();
    // Files a stopped earlier invocation left must not be merged into this one's.
    for i in 1..=k {
        remove_run_files(&files::run_path(&csv, i, k));
    }
    let interrupt = crate::install_signal_handler()?;
    let (mut runs, mut failed, mut interrupted) = (Vec::<PathBuf>::new(), false, false);
    for i in 1..=k {
        if interrupt.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        let mut child = Command::new(&program);
        child
            .args(&original)
            .arg("--repeat-run")
            .arg(format!("{i}/{k}"));
        if args.json {
            // The merged records are printed at the end, once.
            child.stdout(Stdio::null());
        }
        let status = child
            .status()
            .with_context(|| format!("starting run {i} of {k} ({})", program.display()))?;
        runs.push(files::run_path(&csv, i, k));
        match status.code() {
            Some(0) => {}
            Some(1) => failed = true,
            Some(130) => {
                interrupted = true;
                break;
            }
            None if interrupt.load(Ordering::SeqCst) => {
                interrupted = true;
                break;
            }
            None => {
                // Killed from outside (the OOM killer, a scheduler): say so; the next run goes on.
                use std::os::unix::process::ExitStatusExt;
                let signal = status
                    .signal()
                    .map_or("a signal".to_owned(), |s| format!("signal {s}"));
                out.warning(&format!(
                    "run {i} of {k} was killed by {signal}; its records so far are kept"
                ));
                failed = true;
            }
            Some(code) => bail!(
                "run {i} of {k} ended with an error (exit status {code}); the records of the \
                 runs so far are in {}",
                runs.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    let rows = merge(&runs, &csv)?;
    let recorded_runs = {
        let mut seen: Vec<u64> = rows.iter().filter_map(|r| r.repeat_index).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    for line in summary(&rows) {
        out.notice(&line);
    }
    if args.json {
        output::print_stdout(&serde_json::to_string_pretty(&rows)?);
    }
    out.notice(&format!(
        "{} record(s) of {recorded_runs} run(s) written to {} and its .json",
        rows.len(),
        csv.display()
    ));
    Ok(if interrupted {
        ExitCode::from(130)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads the runs' JSON files (in run order; a run interrupted before its first record has
/// none), writes their records to `csv` and its .json, then removes the runs' own files.
fn merge(runs: &[PathBuf], csv: &std::path::Path) -> Result<Vec<ResultRow>> {
    let mut rows = Vec::new();
    for run in runs {
        let json = run.with_extension("json");
        if json.exists() {
            rows.extend(
                read_results(&json).with_context(|| format!("merging {}", json.display()))?,
            );
        }
    }
    write_atomic(csv, to_csv(&rows)?.as_bytes())?;
    write_atomic(&csv.with_extension("json"), to_json(&rows)?.as_bytes())?;
    // One manifest for the merged file: the plan, every run's done and failed jobs.
    let mut merged: Option<Manifest> = None;
    for run in runs {
        let path = Manifest::path_for(run);
        let Ok(manifest) = Manifest::read(&path) else {
            continue;
        };
        merged = Some(match merged {
            None => manifest,
            Some(mut all) => {
                for id in manifest.done {
                    if !all.done.contains(&id) {
                        all.done.push(id);
                    }
                }
                all.failed.extend(manifest.failed);
                all.finished = manifest.finished;
                all.interrupted |= manifest.interrupted;
                all
            }
        });
    }
    if let Some(manifest) = merged {
        manifest.write(&Manifest::path_for(csv))?;
    }
    for run in runs {
        remove_run_files(run);
    }
    Ok(rows)
}

/// Removes a run's CSV, JSON, lock and manifest (merged already, or stale). A file that cannot
/// be removed is only clutter.
fn remove_run_files(run: &std::path::Path) {
    for path in [
        run.to_path_buf(),
        run.with_extension("json"),
        run.with_extension("lock"),
        Manifest::path_for(run),
    ] {
        let _ = std::fs::remove_file(path);
    }
}

/// One line per model and shape measured in several runs: the run medians, their mean with its
/// 95% t interval, the between-run spread beside the within-run interval, and the cold starts.
fn summary(rows: &[ResultRow]) -> Vec<String> {
    report::analysis::repeated_runs(rows, false)
        .iter()
        .map(|r| {
            let medians: Vec<String> = r.run_medians.iter().map(|m| format!("{m:.3}")).collect();
            let interval = r.between_run_ci.map_or(String::new(), |(lo, hi)| {
                format!(" [{lo:.3}, {hi:.3}] (95% t)")
            });
            let within = r.within_run_half_width.map_or(String::new(), |w| {
                format!(", 95% CI within a run ±{:.2}%", w * 100.0)
            });
            let cold: Vec<String> = r
                .process_to_built_s
                .iter()
                .map(|c| c.map_or("-".into(), |c| format!("{c:.2}")))
                .collect();
            let cold = if r.process_to_built_s.iter().any(Option::is_some) {
                format!("; cold start (process to built) {} s", cold.join(", "))
            } else {
                String::new()
            };
            format!(
                "{} ({}): run medians {} ms; mean {:.3}{interval}; between-run CV {:.2}%{within}{cold}",
                r.model_name,
                r.shape,
                medians.join(", "),
                r.mean_median,
                r.between_run_cv * 100.0,
            )
        })
        .collect()
}
