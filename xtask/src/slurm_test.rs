//! `cargo xtask slurm-test`: a sharded sweep on a real one-node Slurm cluster.
//!
//! Starts the cluster with `scripts/slurm-local.sh` (which installs slurm-wlm and munge with
//! apt-get when they are missing), emits the sbatch array script for a sweep of tiny models in 4
//! shards (`latency-analysis plan --emit slurm`), submits it, re-queues one task while it is in
//! the middle of its shard, waits for the array to finish, and checks: the re-queued task resumed
//! (its log says it skipped the jobs already recorded), every manifest is finished, and the merged
//! results (`analyze-latency DIR`) are exactly the jobs of a single-machine plan, each once. The
//! cluster is stopped at the end, whatever happened.
//!
//! `cargo xtask test` runs it last. On a machine where Slurm cannot be installed (no root), set
//! `BERT_LATENCY_SKIP_SLURM=1` to leave it out; CI never sets it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::cargo::{build_release_binaries, target_dir};

/// Four tiny models: with 4 shapes, 16 jobs.
const CONFIG: &str = r#"
models:
  - name: "bert-a"
    model_type: "hf_bert"
    model_config: {hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 128}
  - name: "bert-b"
    model_type: "hf_bert"
    model_config: {hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128, vocab_size: 128}
  - name: "modernbert-a"
    model_type: "modern_bert"
    model_config: {hidden_size: 32, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 48, vocab_size: 128, local_attention: 8}
  - name: "mosaic-a"
    model_type: "mosaic_bert"
    model_config: {hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 64, vocab_size: 128}
"#;

/// Each job measures for at least 1.5 s, so a shard of 4 jobs lasts long enough to be re-queued
/// in its middle.
const RUN_FLAGS: &[&str] = &[
    "--device",
    "cpu",
    "--threads",
    "1",
    "--batch-size",
    "1,2",
    "--sequence-length",
    "8,16",
    "--warmup-batches",
    "1",
    "--measure-batches",
    "3",
    "--min-time",
    "1.5",
];

const TASKS: usize = 4;

/// Runs the test; see the module docs.
pub fn run(root: &Path) -> Result<()> {
    if std::env::var_os("BERT_LATENCY_SKIP_SLURM").is_some_and(|v| !v.is_empty()) {
        eprintln!("slurm-test: skipped (BERT_LATENCY_SKIP_SLURM is set)");
        return Ok(());
    }
    build_release_binaries(root)?;
    let release = target_dir(root)?.join("release");
    let work = target_dir(root)?.join("slurm-test");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let state = work.join("cluster");
    let script = root.join("scripts/slurm-local.sh");
    let start = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(&state)
        .output()
        .context("running scripts/slurm-local.sh start")?;
    ensure!(
        start.status.success(),
        "starting the one-node Slurm cluster failed (set BERT_LATENCY_SKIP_SLURM=1 on a machine \
         where it cannot run):\n{}",
        String::from_utf8_lossy(&start.stderr)
    );
    let conf = String::from_utf8_lossy(&start.stdout)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("export SLURM_CONF=")
                .map(str::to_owned)
        })
        .context("slurm-local.sh start printed no SLURM_CONF")?;
    let conf = conf.trim_matches(|c| c == '\'' || c == '"').to_owned();
    let outcome = sweep(&release, &work, &conf);
    let stop = Command::new("bash")
        .arg(&script)
        .arg("stop")
        .arg(&state)
        .output();
    if let Ok(stop) = &stop {
        if !stop.status.success() {
            eprintln!(
                "slurm-test: stopping the cluster failed: {}",
                String::from_utf8_lossy(&stop.stderr)
            );
        }
    }
    outcome
}

fn output(command: &mut Command) -> Result<Output> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .with_context(|| format!("could not start {shown}"))?;
    ensure!(
        out.status.success(),
        "{shown} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

fn slurm(program: &str, conf: &str) -> Command {
    let mut command = Command::new(program);
    command.env("SLURM_CONF", conf);
    command
}

/// The whole scenario on a running cluster.
fn sweep(release: &Path, work: &Path, conf: &str) -> Result<()> {
    let latency = release.join("latency-analysis");
    let config = work.join("sweep.yaml");
    std::fs::write(&config, CONFIG)?;
    let results = work.join("results");
    let sbatch_file = work.join("sweep.sbatch");
    output(
        Command::new(&latency)
            .arg("--config-file")
            .arg(&config)
            .args(RUN_FLAGS)
            .args(["plan", "--emit", "slurm", "--tasks", &TASKS.to_string()])
            .arg("--results-dir")
            .arg(&results)
            .arg("--file")
            .arg(&sbatch_file),
    )?;
    let submitted = output(slurm("sbatch", conf).arg("--parsable").arg(&sbatch_file))?;
    let job = String::from_utf8_lossy(&submitted.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    ensure!(!job.is_empty(), "sbatch printed no job id");
    eprintln!("slurm-test: submitted array job {job} ({TASKS} tasks)");

    // Re-queue task 1 (shard 2) once it has recorded a job and before it has finished.
    let manifest = results.join(format!("shard-2-of-{TASKS}.manifest.json"));
    let started = Instant::now();
    loop {
        ensure!(
            started.elapsed() < Duration::from_secs(240),
            "shard 2 never recorded its first job: {}",
            queue(conf)
        );
        if let Ok(text) = std::fs::read_to_string(&manifest) {
            let done = count_done(&text);
            let finished = text.contains("\"finished\": \"");
            ensure!(
                !finished,
                "shard 2 finished before it could be re-queued (the jobs are too quick)"
            );
            if done >= 1 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    output(slurm("scontrol", conf).args(["requeue", &format!("{job}_1")]))?;
    eprintln!("slurm-test: re-queued task {job}_1 in the middle of its shard");

    let started = Instant::now();
    while !queue(conf).trim().is_empty() {
        ensure!(
            started.elapsed() < Duration::from_secs(600),
            "the array did not finish in 10 minutes: {}",
            queue(conf)
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Every shard finished; the re-queued one resumed rather than starting over.
    for shard in 1..=TASKS {
        let path = results.join(format!("shard-{shard}-of-{TASKS}.manifest.json"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        ensure!(
            text.contains("\"finished\": \"") && text.contains("\"interrupted\": false"),
            "{} is not a finished, uninterrupted run:\n{text}",
            path.display()
        );
    }
    let log = results.join(format!("slurm-{job}_1.out"));
    let log_text =
        std::fs::read_to_string(&log).with_context(|| format!("reading {}", log.display()))?;
    ensure!(
        log_text.contains("already recorded are skipped"),
        "the re-queued task did not resume its shard; its log:\n{log_text}"
    );

    // The merged results are the single-machine plan's jobs, each once.
    let analyze = release.join("analyze-latency");
    output(
        Command::new(&analyze)
            .arg(&results)
            .args(["--format", "markdown"]),
    )?;
    let plan = output(
        Command::new(&latency)
            .arg("--config-file")
            .arg(&config)
            .args(RUN_FLAGS)
            .args(["--dry-run", "--json"]),
    )?;
    let mut planned = ids_in(&String::from_utf8_lossy(&plan.stdout), "job_id");
    let mut recorded = Vec::new();
    for entry in std::fs::read_dir(&results)? {
        let path: PathBuf = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("shard-")
            && name.ends_with(".json")
            && !name.ends_with(".manifest.json")
        {
            recorded.extend(ids_in(&std::fs::read_to_string(&path)?, "job_id"));
        }
    }
    planned.sort();
    recorded.sort();
    if planned != recorded {
        bail!("merged jobs differ from the plan:\n planned {planned:?}\n recorded {recorded:?}");
    }
    eprintln!(
        "slurm-test: passed: {} jobs in {TASKS} shards, one task re-queued and resumed, merged \
         results complete",
        planned.len()
    );
    Ok(())
}

/// `squeue`'s rows for this user (empty when nothing is queued or running).
fn queue(conf: &str) -> String {
    slurm("squeue", conf)
        .args(["-h", "-o", "%i %T"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// The number of ids in a manifest's `done` list.
fn count_done(manifest: &str) -> usize {
    manifest
        .split("\"done\": [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .map_or(0, |list| list.matches('"').count() / 2)
}

/// Every string value of `key` in a JSON text (ids are plain hex, so no escapes to worry about).
fn ids_in(json: &str, key: &str) -> Vec<String> {
    let pattern = format!("\"{key}\": \"");
    json.split(&pattern)
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_done_counts_and_ids() {
        let manifest = "{\n  \"done\": [\n    \"ab\",\n    \"cd\"\n  ],\n  \"failed\": []\n}";
        assert_eq!(count_done(manifest), 2);
        assert_eq!(count_done("{\"done\": []}"), 0);
        let json = "[{\"job_id\": \"ab12\", \"x\": 1}, {\"job_id\": \"cd34\"}]";
        assert_eq!(ids_in(json, "job_id"), ["ab12", "cd34"]);
    }
}
