//! Merging the results of a sharded sweep: finding the files, and checking that they make one
//! complete plan.
//!
//! Every record of `latency-analysis` carries its `plan_hash` and `job_id`, and every run writes a
//! manifest listing the whole plan's jobs ([`crate::manifest`]). [`coverage`] checks a set of
//! records against that: one plan hash (a foreign or changed plan is flagged), each job once (a
//! shard read twice is flagged), and every job of the plan present (a missing or failed shard is
//! flagged). Records without a plan hash (older files, the Python tool's) are not checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::schema::ResultRow;

/// The results files under `path`: the file itself, or in a folder every results file (`.json`,
/// or `.csv` where no `.json` of the same stem is beside it, since the JSON holds the raw
/// latencies), manifests left out, sorted by name.
///
/// # Errors
/// [`Error::Io`] when the folder cannot be read.
pub fn results_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io(path, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files
        .iter()
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            if name.ends_with(".manifest.json") || name.starts_with('.') {
                return false;
            }
            match p.extension().and_then(|e| e.to_str()) {
                Some("json") => true,
                Some("csv") => !p.with_extension("json").exists(),
                _ => false,
            }
        })
        .cloned()
        .collect())
}

/// The manifests beside `files` (`<stem>.manifest.json`), those that exist.
///
/// # Errors
/// A manifest that exists but cannot be read.
pub fn manifests_for(files: &[PathBuf]) -> Result<Vec<(PathBuf, Manifest)>> {
    let mut seen = BTreeSet::new();
    let mut manifests = Vec::new();
    for file in files {
        let path = Manifest::path_for(&file.with_extension("csv"));
        if path.exists() && seen.insert(path.clone()) {
            let manifest = Manifest::read(&path)?;
            manifests.push((path, manifest));
        }
    }
    Ok(manifests)
}

/// How a set of records covers its plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Coverage {
    /// Records per plan hash (records without one are not counted).
    pub plans: BTreeMap<String, usize>,
    /// Jobs of the plan (from the manifests) with no record, and jobs of `--repeat` runs
    /// missing from some run: `(job id, label)`. Jobs the manifests list as failed are not
    /// missing (see [`Self::failed`]).
    pub missing: Vec<(String, String)>,
    /// Jobs the manifests list as failed during the run: `(job id, label, cause)`. The run
    /// reported them; they are not a gap in the set.
    pub failed: Vec<(String, String, String)>,
    /// Jobs recorded more than once: `(job id, model and shape, times)`.
    pub duplicates: Vec<(String, String, usize)>,
    /// Jobs of the plan known, from the manifests (0 without a manifest).
    pub planned: usize,
    /// Whether a manifest was found for the plan.
    pub has_manifest: bool,
}

impl Coverage {
    /// Whether the set is one plan, each job once, nothing missing.
    pub fn is_complete(&self) -> bool {
        self.plans.len() <= 1 && self.missing.is_empty() && self.duplicates.is_empty()
    }

    /// One sentence per problem, for the user.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.plans.len() > 1 {
            let plans: Vec<String> = self
                .plans
                .iter()
                .map(|(hash, n)| format!("{hash} ({n} records)"))
                .collect();
            problems.push(format!(
                "the records come from {} different plans: {} (a foreign or changed sweep)",
                self.plans.len(),
                plans.join(", ")
            ));
        }
        if !self.missing.is_empty() {
            let shown: Vec<&str> = self.missing.iter().take(5).map(|m| m.1.as_str()).collect();
            let verb = if self.missing.len() == 1 {
                "has"
            } else {
                "have"
            };
            problems.push(format!(
                "{} of the plan's {} jobs {verb} no record (a shard, or a --repeat run, missing \
                 or interrupted): {}{}",
                self.missing.len(),
                self.planned.max(self.missing.len()),
                shown.join(", "),
                if self.missing.len() > 5 { ", ..." } else { "" }
            ));
        }
        for (id, what, times) in &self.duplicates {
            problems.push(format!(
                "job {id} ({what}) is recorded {times} times (a shard read twice?)"
            ));
        }
        problems
    }
}

/// Checks `rows` against the plans of `manifests`.
pub fn coverage(rows: &[ResultRow], manifests: &[Manifest]) -> Coverage {
    let mut plans: BTreeMap<String, usize> = BTreeMap::new();
    // A job is recorded once per run: `--repeat K` records each job K times, once per
    // `repeat_index`.
    let mut times: BTreeMap<(&str, Option<u64>), (usize, String)> = BTreeMap::new();
    for row in rows {
        if let Some(hash) = &row.plan_hash {
            *plans.entry(hash.clone()).or_default() += 1;
        }
        if let Some(id) = &row.job_id {
            let entry = times
                .entry((id.as_str(), row.repeat_index))
                .or_insert_with(|| {
                    let run = row
                        .repeat_index
                        .map_or(String::new(), |i| format!(", run {i}"));
                    (
                        0,
                        format!(
                            "{} batch {} x seq {}{run}",
                            row.model_name, row.batch_size, row.sequence_length
                        ),
                    )
                });
            entry.0 += 1;
        }
    }
    let duplicates = times
        .iter()
        .filter(|(_, (n, _))| *n > 1)
        .map(|((id, _), (n, what))| ((*id).to_owned(), what.clone(), *n))
        .collect();
    let recorded: std::collections::BTreeSet<&str> = times.keys().map(|(id, _)| *id).collect();
    // The plan the records belong to (the most common hash), and what its manifests list.
    let main_plan = plans
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(h, _)| h.clone());
    let mut planned: BTreeMap<String, String> = BTreeMap::new();
    for m in manifests
        .iter()
        .filter(|m| Some(&m.plan_hash) == main_plan.as_ref())
    {
        for job in &m.plan_jobs {
            planned.insert(job.id.clone(), job.label.clone());
        }
    }
    let mut failed: Vec<(String, String, String)> = Vec::new();
    for m in manifests
        .iter()
        .filter(|m| Some(&m.plan_hash) == main_plan.as_ref())
    {
        for job in &m.failed {
            if !failed.iter().any(|(id, ..)| *id == job.id) {
                let label = planned.get(&job.id).cloned().unwrap_or_default();
                failed.push((job.id.clone(), label, job.cause.clone()));
            }
        }
    }
    let is_failed = |id: &str| failed.iter().any(|(f, ..)| f == id);
    let mut missing: Vec<(String, String)> = planned
        .iter()
        .filter(|(id, _)| !recorded.contains(id.as_str()) && !is_failed(id))
        .map(|(id, label)| (id.clone(), label.clone()))
        .collect();
    // `--repeat K`: every job known (planned or recorded) once in each run 1..=K.
    let repeats = rows.iter().filter_map(|r| r.repeats).max();
    if let Some(k) = repeats {
        let mut jobs: BTreeMap<&str, String> = times
            .iter()
            .map(|((id, _), (_, what))| {
                (*id, what.split(", run").next().unwrap_or(what).to_owned())
            })
            .collect();
        for (id, label) in &planned {
            jobs.entry(id.as_str()).or_insert_with(|| label.clone());
        }
        for (id, label) in jobs {
            if is_failed(id) {
                continue;
            }
            for run in 1..=k {
                if recorded.contains(id) && !times.contains_key(&(id, Some(run))) {
                    missing.push((id.to_owned(), format!("{label}, run {run}")));
                }
            }
        }
    }
    Coverage {
        plans,
        missing,
        failed,
        duplicates,
        planned: planned.len(),
        has_manifest: !planned.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::PlannedJob;

    fn row(id: &str, hash: &str) -> ResultRow {
        ResultRow {
            model_name: format!("m{id}"),
            batch_size: 1,
            sequence_length: 8,
            job_id: Some(id.to_owned()),
            plan_hash: Some(hash.to_owned()),
            ..ResultRow::default()
        }
    }

    fn manifest(hash: &str, ids: &[&str]) -> Manifest {
        let text = serde_json::json!({
            "tool_version": "0.1.0", "plan_hash": hash, "shard": "1/2", "shard_strategy": "slice",
            "host_name": null, "cpu_model": null, "device": "cpu", "device_name": null,
            "driver_version": null, "libtorch_version": null, "started": "2026-11-30T00:00:00Z",
            "finished": null, "interrupted": false, "done": [], "failed": [],
            "plan_jobs": ids.iter().map(|id| PlannedJob {
                id: (*id).to_owned(), label: format!("job {id}"), shard: None,
                job: serde_json::Value::Null,
            }).collect::<Vec<_>>(),
        });
        serde_json::from_value(text).unwrap()
    }

    #[test]
    fn a_complete_set_has_no_problems() {
        let rows = [row("a", "h"), row("b", "h")];
        let c = coverage(&rows, &[manifest("h", &["a", "b"])]);
        assert!(c.is_complete(), "{:?}", c.problems());
        assert_eq!(c.planned, 2);
    }

    #[test]
    fn a_repeat_run_missing_a_job_and_a_failed_job_are_told_apart() {
        let run = |id: &str, i: u64| ResultRow {
            repeat_index: Some(i),
            repeats: Some(3),
            ..row(id, "h")
        };
        // Run 3 interrupted before b.
        let rows = [
            run("a", 1),
            run("b", 1),
            run("a", 2),
            run("b", 2),
            run("a", 3),
        ];
        let c = coverage(&rows, &[manifest("h", &["a", "b"])]);
        assert!(!c.is_complete());
        assert_eq!(
            c.missing,
            [("b".to_owned(), "mb batch 1 x seq 8, run 3".to_owned())]
        );
        assert!(
            c.problems()[0].contains("1 of the plan's 2 jobs has no record"),
            "{:?}",
            c.problems()
        );
        // A job the manifest lists as failed is not missing.
        let mut plan = manifest("h", &["a", "b"]);
        plan.failed.push(crate::manifest::FailedJob {
            id: "b".to_owned(),
            cause: "build: out of memory".to_owned(),
        });
        let c = coverage(&[row("a", "h")], &[plan]);
        assert!(c.is_complete(), "{:?}", c.problems());
        assert_eq!(c.failed.len(), 1);
        assert_eq!(c.failed[0].2, "build: out of memory");
    }

    #[test]
    fn repeated_runs_record_each_job_once_per_run() {
        let run = |id: &str, i: u64| ResultRow {
            repeat_index: Some(i),
            repeats: Some(2),
            ..row(id, "h")
        };
        let rows = [run("a", 1), run("b", 1), run("a", 2), run("b", 2)];
        let c = coverage(&rows, &[manifest("h", &["a", "b"])]);
        assert!(c.is_complete(), "{:?}", c.problems());
        // One run read twice is still a duplicate, named with its run.
        let rows = [run("a", 1), run("b", 1), run("a", 1), run("b", 2)];
        let c = coverage(&rows, &[manifest("h", &["a", "b"])]);
        assert_eq!(c.duplicates.len(), 1);
        assert!(
            c.problems()
                .iter()
                .any(|p| p.contains("job a (ma batch 1 x seq 8, run 1) is recorded 2 times")),
            "{:?}",
            c.problems()
        );
        // ... and run 2 then lacks a.
        assert_eq!(
            c.missing,
            [("a".to_owned(), "ma batch 1 x seq 8, run 2".to_owned())]
        );
    }

    #[test]
    fn a_missing_shard_a_duplicate_shard_and_a_foreign_plan_are_named() {
        let plan = manifest("h", &["a", "b", "c", "d"]);
        // Shard 2 (c, d) missing.
        let c = coverage(&[row("a", "h"), row("b", "h")], std::slice::from_ref(&plan));
        assert_eq!(c.missing.len(), 2);
        assert!(
            c.problems()[0].contains("2 of the plan's 4 jobs have no record"),
            "{:?}",
            c.problems()
        );
        // Shard 1 read twice.
        let rows = [
            row("a", "h"),
            row("b", "h"),
            row("a", "h"),
            row("b", "h"),
            row("c", "h"),
            row("d", "h"),
        ];
        let c = coverage(&rows, std::slice::from_ref(&plan));
        assert_eq!(c.duplicates.len(), 2);
        assert!(!c.is_complete());
        // A shard of another plan mixed in.
        let rows = [
            row("a", "h"),
            row("b", "h"),
            row("c", "h"),
            row("d", "h"),
            row("x", "other"),
        ];
        let c = coverage(&rows, &[plan]);
        assert!(
            c.problems()[0].contains("2 different plans"),
            "{:?}",
            c.problems()
        );
    }

    #[test]
    fn folders_give_their_results_files_json_first() {
        let dir = std::env::temp_dir().join(format!("merge-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "shard-1-of-2.csv",
            "shard-1-of-2.json",
            "shard-1-of-2.manifest.json",
            "shard-2-of-2.csv",
            "slurm-1_0.out",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let files = results_files(&dir).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["shard-1-of-2.json", "shard-2-of-2.csv"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
