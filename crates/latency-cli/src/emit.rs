//! `latency-analysis plan --emit slurm|k8s`: a scheduler's job that runs this plan in shards.
//!
//! Each task runs the same flags with `--shard-from-env` into one results folder, so a re-queued
//! task resumes its shard and `analyze-latency` merges the folder. Slurm: an `sbatch` script
//! with a job array (`--array=0-(N-1)`, `--requeue`). Kubernetes: a ConfigMap holding the config
//! and an Indexed Job (`completionMode: Indexed`, N completions) whose pods mount it and a results
//! volume.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;

use crate::args::{Args, PlanArgs};
use crate::config;

/// Writes the script or manifest for `args` (the run flags) and `plan` (the `plan` flags): to
/// `--file`, or standard output.
///
/// # Errors
/// The config or the output file cannot be read or written, or a path is not valid UTF-8.
pub fn emit(args: &Args, plan: &PlanArgs, jobs: usize) -> Result<()> {
    let text = match plan.emit.as_str() {
        "slurm" => slurm(args, plan, jobs)?,
        _ => kubernetes(args, plan, jobs)?,
    };
    match &plan.file {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => {
            crate::output::print_stdout(text.trim_end());
            Ok(())
        }
    }
}

/// The run flags of a task: one GPU per task, so `--device cuda:N` becomes `cuda` (the task's
/// only GPU).
fn task_flags(args: &Args, config: &str) -> Vec<String> {
    let mut flags = args.run_flags(config);
    if let Some(i) = flags.iter().position(|f| f == "--device") {
        if flags.get(i + 1).is_some_and(|d| d.starts_with("cuda:")) {
            flags[i + 1] = "cuda".to_owned();
        }
    }
    flags
}

fn quote(word: &str) -> Result<String> {
    shlex::try_quote(word)
        .map(|q| q.into_owned())
        .map_err(|e| anyhow::anyhow!("cannot quote '{word}' for a shell: {e}"))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// The sbatch script: one array task per shard, re-queueable, results and logs in one folder.
fn slurm(args: &Args, plan: &PlanArgs, jobs: usize) -> Result<String> {
    let results = absolute(
        plan.results_dir
            .as_ref()
            .or(args.output_dir.as_ref())
            .map_or(Path::new("latency-results"), PathBuf::as_path),
    );
    std::fs::create_dir_all(&results)
        .with_context(|| format!("creating the results folder {}", results.display()))?;
    let binary = std::env::current_exe().context("finding latency-analysis's own path")?;
    let config = absolute(&args.config_file).display().to_string();
    let mut command = vec![quote(&binary.display().to_string())?];
    for word in task_flags(args, &config) {
        command.push(quote(&word)?);
    }
    command.extend([
        "--shard-from-env".to_owned(),
        "--shards".to_owned(),
        plan.tasks.to_string(),
        "--output-dir".to_owned(),
        quote(&results.display().to_string())?,
    ]);
    let cwd = std::env::current_dir().context("reading the current folder")?;
    // #SBATCH lines are not shell: double quotes hold spaces, nothing escapes a quote, and % is
    // a filename pattern in --output.
    let directive = |path: &Path| -> Result<String> {
        let text = path.display().to_string();
        anyhow::ensure!(
            !text.contains(['"', '%', '\n']),
            "{text}: a path with '\"', '%' or a newline cannot be written in an #SBATCH line; use \
             another --results-dir or run from another folder"
        );
        Ok(format!("\"{text}"))
    };
    let mut lines = vec![
        "#!/bin/bash".to_owned(),
        format!(
            "# Written by `latency-analysis plan --emit slurm`: {jobs} jobs in {} shards.",
            plan.tasks
        ),
        "# Submit with `sbatch FILE`. A re-queued task resumes its shard; to run shard K+1 again"
            .to_owned(),
        "# alone, `sbatch --array=K FILE`. Merge with:".to_owned(),
        format!(
            "#   analyze-latency {}",
            quote(&results.display().to_string())?
        ),
        format!("#SBATCH --job-name=bert-latency"),
        format!("#SBATCH --array=0-{}", plan.tasks - 1),
        "#SBATCH --requeue".to_owned(),
        // A re-queued task appends to its log instead of overwriting the interrupted attempt's.
        "#SBATCH --open-mode=append".to_owned(),
        "#SBATCH --ntasks=1".to_owned(),
        format!("#SBATCH --chdir={}\"", directive(&cwd)?),
        format!(
            "#SBATCH --output={}/slurm-%A_%a.out\"",
            directive(&results)?
        ),
    ];
    if let Some(threads) = args.threads {
        lines.push(format!("#SBATCH --cpus-per-task={threads}"));
    }
    if args.device != "cpu" {
        lines.push("#SBATCH --gres=gpu:1".to_owned());
    }
    lines.push("set -euo pipefail".to_owned());
    lines.push(format!("exec {}", command.join(" ")));
    Ok(lines.join("\n") + "\n")
}

/// A ConfigMap with the config file and an Indexed Job running one shard per completion.
fn kubernetes(args: &Args, plan: &PlanArgs, jobs: usize) -> Result<String> {
    let (text, _) = config::text(&args.config_file)?;
    let results = plan
        .results_dir
        .as_ref()
        .map_or_else(|| "/results".to_owned(), |d| d.display().to_string());
    let mut command = vec!["latency-analysis".to_owned()];
    command.extend(task_flags(args, "/config/latency_config.yaml"));
    command.extend([
        "--shard-from-env".to_owned(),
        "--shards".to_owned(),
        plan.tasks.to_string(),
        "--output-dir".to_owned(),
        results.clone(),
    ]);
    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "bert-latency-config"},
        "data": {"latency_config.yaml": text},
    });
    let mut container = json!({
        "name": "latency-analysis",
        "image": plan.image,
        "command": command,
        "volumeMounts": [
            {"name": "config", "mountPath": "/config", "readOnly": true},
            {"name": "results", "mountPath": results},
        ],
    });
    let mut resources = serde_json::Map::new();
    if args.device != "cpu" {
        resources.insert("limits".into(), json!({"nvidia.com/gpu": 1}));
    }
    if let Some(threads) = args.threads {
        // Cores of its own for libtorch's threads, so pods on one node do not share them.
        resources.insert("requests".into(), json!({"cpu": threads.to_string()}));
    }
    if !resources.is_empty() {
        container["resources"] = serde_json::Value::Object(resources);
    }
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "bert-latency",
            "annotations": {"bert-latency/jobs": jobs.to_string()},
        },
        "spec": {
            "completionMode": "Indexed",
            "completions": plan.tasks,
            "parallelism": plan.tasks,
            "backoffLimitPerIndex": 2,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [container],
                "volumes": [
                    {"name": "config", "configMap": {"name": "bert-latency-config"}},
                    {"name": "results", "persistentVolumeClaim": {"claimName": plan.results_claim}},
                ],
            }},
        },
    });
    let header = format!(
        "# Written by `latency-analysis plan --emit k8s`: {jobs} jobs in {} shards. Apply with\n\
         # `kubectl apply -f FILE`; each pod runs one shard (JOB_COMPLETION_INDEX) into {results}\n\
         # on the claim {}. A replaced pod resumes its shard.\n",
        plan.tasks, plan.results_claim
    );
    let docs = [config_map, job]
        .iter()
        .map(|doc| serde_saphyr::to_string(doc).map_err(|e| anyhow::anyhow!("writing YAML: {e}")))
        .collect::<Result<Vec<_>>>()?;
    Ok(header + &docs.join("---\n"))
}
