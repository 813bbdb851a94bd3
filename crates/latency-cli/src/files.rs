//! Where a run's results and manifest go, and what an earlier run of the same shard left there.
//!
//! Unsharded: `--output-file` (or `DIR/results.csv` with `--output-dir DIR`), overwritten by a new
//! run as the Python tool did. Sharded: `<stem>-shard-I-of-N.csv` beside `--output-file` (or
//! `DIR/shard-I-of-N.csv`), and a re-run of the same shard with the same plan resumes: the jobs
//! already recorded are skipped unless `--force`; a changed plan is refused, saying what changed.
//! The manifest `<stem>.manifest.json` is rewritten after every job.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use report::ResultRow;
use report::io::ResultsWriter;
use report::manifest::{FailedJob, Manifest};
use report::record::MachineFacts;
use runner::{Plan, ShardSpec, ShardStrategy};

use crate::args::Args;

/// The results file of run `i` of `k` (`--repeat`): `<stem>.run-<i>-of-<k>.csv` beside `csv`.
pub fn run_path(csv: &std::path::Path, i: u32, k: u32) -> PathBuf {
    let stem = csv
        .file_stem()
        .map_or_else(|| "latency_results".into(), |s| s.to_string_lossy());
    csv.with_file_name(format!("{stem}.run-{i}-of-{k}.csv"))
}

/// The results file of this run.
pub fn results_path(args: &Args, shard: Option<ShardSpec>) -> PathBuf {
    if let Some((i, k)) = args.repeat_run {
        return run_path(&args.output_file, i, k);
    }
    let suffix = shard.map(|s| format!("shard-{}-of-{}", s.index, s.count));
    match (&args.output_dir, suffix) {
        (Some(dir), Some(suffix)) => dir.join(format!("{suffix}.csv")),
        (Some(dir), None) => dir.join("results.csv"),
        (None, Some(suffix)) => {
            let stem = args
                .output_file
                .file_stem()
                .map_or_else(|| "latency_results".into(), |s| s.to_string_lossy());
            args.output_file
                .with_file_name(format!("{stem}-{suffix}.csv"))
        }
        (None, None) => args.output_file.clone(),
    }
}

/// The results writer and the manifest of a run, kept in step.
pub struct RunFiles {
    /// The results (CSV and JSON).
    pub writer: ResultsWriter,
    manifest: Manifest,
    manifest_path: PathBuf,
    /// An exclusive lock on `<stem>.lock`, held while the run writes: two runs of one shard
    /// would otherwise measure the same jobs and overwrite each other's files.
    _lock: std::fs::File,
}

impl RunFiles {
    /// Opens the files of `plan` (the whole plan; this run's shard is `shard`) at `csv`: checks
    /// the folder, and for a shard reads what an earlier run left. Returns the files and the ids
    /// of the jobs already recorded.
    ///
    /// # Errors
    /// An unwritable folder, unreadable earlier files, or an earlier run of another plan (the
    /// message lists what changed).
    pub fn open(
        csv: PathBuf,
        whole: &Plan,
        shard: Option<(ShardSpec, ShardStrategy)>,
        force: bool,
    ) -> Result<(Self, HashSet<String>)> {
        let manifest_path = Manifest::path_for(&csv);
        let writer = ResultsWriter::new(&csv)?;
        writer
            .prepare()
            .with_context(|| format!("results file {}", csv.display()))?;
        let lock_path = csv.with_extension("lock");
        let lock = std::fs::File::create(&lock_path)
            .with_context(|| format!("creating the lock file {}", lock_path.display()))?;
        if let Err(e) = try_lock(&lock) {
            bail!(
                "another latency-analysis is writing {} ({}: {e}); wait for it to finish, or \
                 use another --output-dir",
                csv.display(),
                lock_path.display()
            );
        }
        let shards = match shard {
            Some((spec, strategy)) => Some(runner::assign_shards(whole, spec.count, strategy)?),
            None => None,
        };
        let plan_jobs = whole.manifest_jobs(shards.as_deref());
        let mut kept: Vec<ResultRow> = Vec::new();
        if shard.is_some() && !force && manifest_path.exists() {
            let earlier = Manifest::read(&manifest_path)?;
            let strategy = shard.map(|(_, s)| s.as_str().to_owned());
            if earlier.shard_strategy != strategy {
                bail!(
                    "{} was written with --shard-strategy {}, now {}: the shard holds other jobs; \
                     use the same strategy, or --force to measure this shard again from scratch",
                    manifest_path.display(),
                    earlier.shard_strategy.as_deref().unwrap_or("none"),
                    strategy.as_deref().unwrap_or("none")
                );
            }
            if earlier.plan_hash != whole.hash() {
                let changes = earlier.plan_changes(&plan_jobs);
                bail!(
                    "{} was written by another plan ({}, now {}): {}; run with --force to \
                     measure this shard again from scratch, or use another --output-dir",
                    manifest_path.display(),
                    earlier.plan_hash,
                    whole.hash(),
                    if changes.is_empty() {
                        "the tool version changed".to_owned()
                    } else {
                        changes.join("; ")
                    }
                );
            }
            let json = csv.with_extension("json");
            if json.exists() {
                kept = report::io::read_results(&json)
                    .with_context(|| format!("resuming from {}", json.display()))?
                    .into_iter()
                    .filter(|r| r.plan_hash.as_deref() == Some(whole.hash()))
                    .collect();
            }
        }
        let done: HashSet<String> = kept.iter().filter_map(|r| r.job_id.clone()).collect();
        let writer = ResultsWriter::resume(writer.csv_path(), kept)?;
        let manifest = Manifest {
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            plan_hash: whole.hash().to_owned(),
            shard: shard.map(|(spec, _)| spec.to_string()),
            shard_strategy: shard.map(|(_, strategy)| strategy.as_str().to_owned()),
            host_name: None,
            cpu_model: None,
            device: String::new(),
            device_name: None,
            driver_version: None,
            libtorch_version: None,
            started: now(),
            finished: None,
            interrupted: false,
            plan_jobs,
            done: done.iter().cloned().collect(),
            failed: Vec::new(),
        };
        Ok((
            Self {
                writer,
                manifest,
                manifest_path,
                _lock: lock,
            },
            done,
        ))
    }

    /// Records the machine the run is on and writes the manifest.
    ///
    /// # Errors
    /// The manifest cannot be written.
    pub fn start(&mut self, device: String, machine: &MachineFacts) -> Result<()> {
        let m = &mut self.manifest;
        m.device = device;
        m.host_name.clone_from(&machine.host_name);
        m.cpu_model.clone_from(&machine.cpu_model);
        m.device_name.clone_from(&machine.device_name);
        m.driver_version.clone_from(&machine.driver_version);
        m.libtorch_version.clone_from(&machine.libtorch_version);
        self.save()
    }

    /// Appends a measured record and notes its job as done.
    ///
    /// # Errors
    /// A file cannot be written (the record stays in memory).
    pub fn record(&mut self, row: ResultRow) -> Result<()> {
        let id = row.job_id.clone();
        self.writer
            .append(row)
            .with_context(|| format!("writing {}", self.writer.csv_path().display()))?;
        self.manifest.done.extend(id);
        self.save()
    }

    /// Notes a failed job.
    ///
    /// # Errors
    /// The manifest cannot be written.
    pub fn failed(&mut self, id: &str, cause: &str) -> Result<()> {
        self.manifest.failed.push(FailedJob {
            id: id.to_owned(),
            cause: cause.to_owned(),
        });
        self.save()
    }

    /// Notes the end of the run.
    ///
    /// # Errors
    /// The manifest cannot be written.
    pub fn finish(&mut self, interrupted: bool) -> Result<()> {
        self.manifest.finished = Some(now());
        self.manifest.interrupted = interrupted;
        self.save()
    }

    fn save(&self) -> Result<()> {
        self.manifest
            .write(&self.manifest_path)
            .with_context(|| format!("writing {}", self.manifest_path.display()))
    }
}

/// Takes an exclusive advisory lock on `file` without waiting (flock; released when the file is
/// closed, also when the process dies).
fn try_lock(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a valid open descriptor has no memory effects.
    let status = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
