//! The manifest written beside a run's (or a shard's) results: which plan and shard it ran, on
//! which machine, when, and which jobs are done or failed.
//!
//! `latency-analysis` rewrites it atomically after every job (`<stem>.manifest.json` beside
//! `<stem>.csv`); a re-run of the same shard reads it to skip finished jobs, or to say what changed
//! when the plan did; `analyze-latency` reads manifests to tell whether a set of shards is
//! complete.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One job of the whole plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedJob {
    /// The job id.
    pub id: String,
    /// `model (batch B, seq S)`.
    pub label: String,
    /// The shard it belongs to (1-based), when the plan is sharded.
    #[serde(default)]
    pub shard: Option<u32>,
    /// The job's canonical description (model entry, shape, dtype, device, inputs, seed, time
    /// boundary, sampling), from which its id is computed.
    pub job: serde_json::Value,
}

/// A job that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedJob {
    /// The job id.
    pub id: String,
    /// The cause, as printed.
    pub cause: String,
}

/// A run's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// bert-latency's version.
    pub tool_version: String,
    /// The whole plan's hash.
    pub plan_hash: String,
    /// The shard run, `I/N`, when sharded.
    pub shard: Option<String>,
    /// The sharding strategy, when sharded.
    pub shard_strategy: Option<String>,
    /// The host name.
    pub host_name: Option<String>,
    /// The CPU model.
    pub cpu_model: Option<String>,
    /// The device (`cpu`, `cuda:N`).
    pub device: String,
    /// The GPU's name (or the CPU model on the CPU).
    pub device_name: Option<String>,
    /// The GPU driver version.
    pub driver_version: Option<String>,
    /// libtorch's version.
    pub libtorch_version: Option<String>,
    /// When this run started (RFC 3339, UTC).
    pub started: String,
    /// When it ended (`None` while running, or after a crash).
    pub finished: Option<String>,
    /// Whether Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
    /// Every job of the whole plan, in plan order (all shards).
    pub plan_jobs: Vec<PlannedJob>,
    /// Ids of this shard's jobs measured (in this run or a run it resumed).
    pub done: Vec<String>,
    /// This shard's jobs that failed in this run.
    pub failed: Vec<FailedJob>,
}

impl Manifest {
    /// The manifest path of a results CSV: `<stem>.manifest.json` beside it.
    pub fn path_for(results_csv: &Path) -> PathBuf {
        results_csv.with_extension("manifest.json")
    }

    /// Reads a manifest.
    ///
    /// # Errors
    /// [`Error::Io`] when unreadable, [`Error::Malformed`] naming the file when it is not a
    /// manifest.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| Error::Malformed {
            path: path.to_owned(),
            location: format!("line {}, column {}", e.line(), e.column()),
            message: format!("not a bert-latency manifest: {e}"),
        })
    }

    /// Writes it atomically.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| Error::io(path, e.into()))?;
        text.push('\n');
        crate::io::write_atomic(path, text.as_bytes())
    }

    /// What differs between the plan this manifest ran and `jobs` (another plan's, in order), in
    /// words: jobs only in one of them, and for jobs of the same label, which settings changed.
    /// Empty when the job lists are the same.
    ///
    /// The same settings change on several jobs is said once, with the jobs counted.
    pub fn plan_changes(&self, jobs: &[PlannedJob]) -> Vec<String> {
        let mut changes = Vec::new();
        // Settings changes, in first-seen order, with the jobs they apply to.
        let mut settings: Vec<(String, Vec<&str>)> = Vec::new();
        for old in &self.plan_jobs {
            match jobs.iter().find(|j| j.label == old.label) {
                None => changes.push(format!("job {} is no longer in the plan", old.label)),
                Some(new) if new.id != old.id => {
                    let mut fields = Vec::new();
                    diff("", &old.job, &new.job, &mut fields);
                    let what = fields.join(", ");
                    match settings.iter_mut().find(|(w, _)| *w == what) {
                        Some((_, labels)) => labels.push(&old.label),
                        None => settings.push((what, vec![&old.label])),
                    }
                }
                Some(_) => {}
            }
        }
        let mut said: Vec<String> = settings
            .into_iter()
            .map(|(what, labels)| match labels.as_slice() {
                [one] => format!("{one}: {what}"),
                many if many.len() == self.plan_jobs.len() => {
                    format!("all {} jobs: {what}", many.len())
                }
                many => format!("{} jobs ({}, ...): {what}", many.len(), many[0]),
            })
            .collect();
        said.append(&mut changes);
        let mut changes = said;
        for new in jobs {
            if !self.plan_jobs.iter().any(|j| j.label == new.label) {
                changes.push(format!("job {} is new", new.label));
            }
        }
        changes
    }
}

/// The leaves of two JSON values that differ, as `path old -> new`.
fn diff(path: &str, old: &serde_json::Value, new: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                diff(
                    &child,
                    a.get(key).unwrap_or(&Value::Null),
                    b.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if old != new => out.push(format!("{path} {old} -> {new}")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(label: &str, id: &str, seed: u64) -> PlannedJob {
        PlannedJob {
            id: id.to_owned(),
            label: label.to_owned(),
            shard: None,
            job: serde_json::json!({"model": {"name": "m"}, "seed": seed, "sampling": {"measure_batches": 5}}),
        }
    }

    fn manifest(jobs: Vec<PlannedJob>) -> Manifest {
        Manifest {
            tool_version: "0.1.0".into(),
            plan_hash: "h".into(),
            shard: None,
            shard_strategy: None,
            host_name: None,
            cpu_model: None,
            device: "cpu".into(),
            device_name: None,
            driver_version: None,
            libtorch_version: None,
            started: "2026-11-30T00:00:00Z".into(),
            finished: None,
            interrupted: false,
            plan_jobs: jobs,
            done: Vec::new(),
            failed: Vec::new(),
        }
    }

    #[test]
    fn plan_changes_name_the_jobs_and_the_settings() {
        let m = manifest(vec![
            job("a (batch 1, seq 8)", "1", 0),
            job("b (batch 1, seq 8)", "2", 0),
        ]);
        assert!(m.plan_changes(&m.plan_jobs.clone()).is_empty());
        let mut changed = job("a (batch 1, seq 8)", "9", 7);
        changed.job["sampling"]["measure_batches"] = serde_json::json!(10);
        let changes = m.plan_changes(&[changed, job("c (batch 1, seq 8)", "3", 0)]);
        assert_eq!(
            changes,
            [
                "a (batch 1, seq 8): sampling.measure_batches 5 -> 10, seed 0 -> 7",
                "job b (batch 1, seq 8) is no longer in the plan",
                "job c (batch 1, seq 8) is new",
            ]
        );
        // One change on every job is said once.
        let all = m.plan_changes(&[
            job("a (batch 1, seq 8)", "8", 7),
            job("b (batch 1, seq 8)", "9", 7),
        ]);
        assert_eq!(all, ["all 2 jobs: seed 0 -> 7"]);
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = std::env::temp_dir().join(format!("manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = Manifest::path_for(&dir.join("r.csv"));
        assert_eq!(path, dir.join("r.manifest.json"));
        let m = manifest(vec![job("a", "1", 0)]);
        m.write(&path).unwrap();
        assert_eq!(Manifest::read(&path).unwrap(), m);
        std::fs::write(&path, "[]").unwrap();
        assert!(
            Manifest::read(&path)
                .unwrap_err()
                .to_string()
                .contains("not a bert-latency manifest")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
