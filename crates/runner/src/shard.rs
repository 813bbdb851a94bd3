//! Splitting a plan across the tasks of a scheduler: `--shard I/N` (1-based, as cargo-nextest and
//! Playwright write it), or the index a Slurm job array or a Kubernetes Indexed Job gives.
//!
//! The unit of assignment is the comparison group: every job at one shape, dtype, device, input
//! distribution and time boundary (all models), since those are compared with each other and a
//! pairwise verdict must not span two machines. Three strategies place the groups:
//!
//! - `slice` (default): contiguous runs of groups in plan order, balanced by job count;
//! - `hash`: a group's shard is its key's SHA-256 modulo N, so a group keeps its shard when the
//!   sweep grows (a new model joins its groups' shards; a new shape lands anywhere);
//! - `cost`: greedy longest-first packing by the estimated cost (FLOPs of a forward × batches run,
//!   from the architecture, without building the model).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use model_zoo::config::Architecture;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::plan::{Job, Plan};

/// One shard of N: `index` in `1..=count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShardSpec {
    /// 1-based.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl FromStr for ShardSpec {
    type Err = Error;

    /// Parses `I/N` with `1 <= I <= N`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::Settings(format!(
                "shard '{s}': expected I/N with 1 <= I <= N, e.g. 1/4"
            ))
        };
        let (index, count) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How groups are placed on shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Contiguous runs of groups, balanced by job count.
    #[default]
    Slice,
    /// By the group key's hash: stable when the sweep grows.
    Hash,
    /// Greedy longest-first packing by estimated cost.
    Cost,
}

impl FromStr for Strategy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "slice" => Ok(Self::Slice),
            "hash" => Ok(Self::Hash),
            "cost" => Ok(Self::Cost),
            _ => Err(Error::Settings(format!(
                "shard strategy '{s}': expected slice, hash or cost"
            ))),
        }
    }
}

impl Strategy {
    /// `slice`, `hash` or `cost`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Slice => "slice",
            Self::Hash => "hash",
            Self::Cost => "cost",
        }
    }
}

/// What makes jobs comparable: everything but the model.
#[derive(Serialize)]
struct GroupKey<'a> {
    batch_size: u32,
    sequence_length: u32,
    dtype: model_zoo::Dtype,
    device: &'a str,
    inputs: &'a crate::plan::Inputs,
    seed: u64,
    time_boundary: crate::plan::TimeBoundary,
}

/// A job's comparison group key, as canonical JSON.
pub fn group_key(job: &Job) -> String {
    let key = GroupKey {
        batch_size: job.batch_size,
        sequence_length: job.sequence_length,
        dtype: job.dtype,
        device: &job.device,
        inputs: &job.inputs,
        seed: job.seed,
        time_boundary: job.time_boundary,
    };
    serde_json::to_string(&key).unwrap_or_default()
}

/// Estimated floating-point operations of one job: a forward's matrix products (from the
/// architecture's sizes, without building it) times the batches it runs (warm-up and measured).
/// For a TorchScript module, whose architecture is unknown, the token count stands in.
pub fn estimated_cost(job: &Job) -> f64 {
    let (b, s) = (f64::from(job.batch_size), f64::from(job.sequence_length));
    let tokens = b * s;
    let sizes = match job.model.architecture() {
        Ok(Architecture::Bert(c)) => {
            Some((c.hidden_size, c.num_hidden_layers, c.intermediate_size))
        }
        Ok(Architecture::Mosaic(c)) => {
            Some((c.hidden_size, c.num_hidden_layers, c.intermediate_size))
        }
        Ok(Architecture::Flex(spec)) => Some((spec.hidden, spec.layers, spec.intermediate)),
        _ => None,
    };
    let forward = sizes.map_or(tokens, |(h, l, i)| {
        let (h, l, i) = (h as f64, l as f64, i as f64);
        // Q, K, V, O projections and the MLP (2 per multiply-add), plus attention's two products.
        l * (2.0 * tokens * (4.0 * h * h + 2.0 * h * i) + 4.0 * b * s * s * h)
    });
    let batches = f64::from(job.sampling.warmup_batches + job.sampling.measure_batches.max(1));
    forward * batches
}

/// The shard (1-based) of every job of `plan`, in plan order, for `count` shards.
///
/// # Errors
/// [`Error::Settings`] when `count` is 0.
pub fn assign(plan: &Plan, count: u32, strategy: Strategy) -> Result<Vec<u32>> {
    if count == 0 {
        return Err(Error::Settings(
            "the number of shards must be at least 1".to_owned(),
        ));
    }
    // Groups in order of first appearance, with their jobs.
    let mut order: Vec<String> = Vec::new();
    let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, job) in plan.jobs().iter().enumerate() {
        let key = group_key(&job.job);
        let entry = members.entry(key.clone()).or_default();
        if entry.is_empty() {
            order.push(key);
        }
        entry.push(i);
    }
    let groups: Vec<&Vec<usize>> = order.iter().map(|k| &members[k]).collect();
    let shard_of_group: Vec<u32> = match strategy {
        Strategy::Slice => {
            // Cut the jobs into `count` runs as even as whole groups allow: a group goes to the
            // shard in which its middle job falls.
            let total = plan.jobs().len().max(1) as f64;
            let mut before = 0usize;
            groups
                .iter()
                .map(|jobs| {
                    let middle = before as f64 + jobs.len() as f64 / 2.0;
                    before += jobs.len();
                    ((middle / total * f64::from(count)).floor() as u32).min(count - 1) + 1
                })
                .collect()
        }
        Strategy::Hash => order
            .iter()
            .map(|key| {
                let digest = Sha256::digest(key.as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                (u64::from_be_bytes(first) % u64::from(count)) as u32 + 1
            })
            .collect(),
        Strategy::Cost => {
            let costs: Vec<f64> = groups
                .iter()
                .map(|jobs| {
                    jobs.iter()
                        .map(|&i| estimated_cost(&plan.jobs()[i].job))
                        .sum()
                })
                .collect();
            let mut by_cost: Vec<usize> = (0..groups.len()).collect();
            // Longest first; ties in plan order, so the packing is deterministic.
            by_cost.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
            let mut load = vec![0.0f64; count as usize];
            let mut shard = vec![0u32; groups.len()];
            for g in by_cost {
                let lightest = (0..load.len())
                    .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
                    .unwrap_or(0);
                load[lightest] += costs[g];
                shard[g] = lightest as u32 + 1;
            }
            shard
        }
    };
    let mut shards = vec![0u32; plan.jobs().len()];
    for (group, jobs) in groups.iter().enumerate() {
        for &i in *jobs {
            shards[i] = shard_of_group[group];
        }
    }
    Ok(shards)
}

/// Where the shard comes from: `--shard-from-env` reads the scheduler's variables.
///
/// Slurm job arrays: with `shards` (`--shards N`), shard = `SLURM_ARRAY_TASK_ID + 1` of N (the
/// index is the 0-based shard, so one index can be re-submitted alone); without it, shard =
/// `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN + 1` of `SLURM_ARRAY_TASK_COUNT`. Kubernetes Indexed Jobs: shard = `JOB_COMPLETION_INDEX + 1` of
/// `shards` (`--shards N`; Kubernetes does not export the count).
///
/// # Errors
/// [`Error::Settings`] naming the variables that are missing, unreadable or contradict each other.
pub fn shard_from_env(
    get: impl Fn(&str) -> Option<String>,
    shards: Option<u32>,
) -> Result<ShardSpec> {
    let number = |name: &str| -> Result<Option<u64>> {
        match get(name) {
            None => Ok(None),
            Some(text) => text.trim().parse::<u64>().map(Some).map_err(|_| {
                Error::Settings(format!("{name}='{text}' is not a non-negative integer"))
            }),
        }
    };
    let slurm_id = number("SLURM_ARRAY_TASK_ID")?;
    let k8s_index = number("JOB_COMPLETION_INDEX")?;
    let spec = match (slurm_id, k8s_index) {
        (Some(_), Some(_)) => {
            return Err(Error::Settings(
                "both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set: which scheduler is \
                 this? unset one, or pass --shard I/N"
                    .to_owned(),
            ));
        }
        (Some(id), None) if shards.is_some() => {
            // With --shards N the array index is the 0-based shard (the emitted script's
            // --array=0-(N-1)), so one index can be submitted again on its own (sbatch --array=2)
            // and sparse arrays work: MIN and COUNT then describe the submission, not the sweep.
            let count = shards.map_or(1, u64::from);
            if id >= count {
                return Err(Error::Settings(format!(
                    "SLURM_ARRAY_TASK_ID={id} is not below --shards {count} (array indices are \
                     the 0-based shards: --array=0-{})",
                    count - 1
                )));
            }
            (id + 1, count)
        }
        (Some(id), None) => {
            let needed = |name: &str| -> Result<u64> {
                number(name)?.ok_or_else(|| {
                    Error::Settings(format!(
                        "SLURM_ARRAY_TASK_ID is set but {name} is not (is this a job array task?)"
                    ))
                })
            };
            let min = needed("SLURM_ARRAY_TASK_MIN")?;
            let count = needed("SLURM_ARRAY_TASK_COUNT")?;
            if id < min || id - min >= count {
                return Err(Error::Settings(format!(
                    "SLURM_ARRAY_TASK_ID={id} is outside SLURM_ARRAY_TASK_MIN={min} .. +{count} \
                     (SLURM_ARRAY_TASK_COUNT): submit the array as --array=0-{}",
                    count.saturating_sub(1)
                )));
            }
            (id - min + 1, count)
        }
        (None, Some(index)) => {
            let count = shards.ok_or_else(|| {
                Error::Settings(
                    "JOB_COMPLETION_INDEX is set: pass --shards N with the Job's completions \
                     (Kubernetes does not export the count)"
                        .to_owned(),
                )
            })?;
            if index >= u64::from(count) {
                return Err(Error::Settings(format!(
                    "JOB_COMPLETION_INDEX={index} is not below --shards {count}"
                )));
            }
            (index + 1, u64::from(count))
        }
        (None, None) => {
            return Err(Error::Settings(
                "--shard-from-env: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor \
                 JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set"
                    .to_owned(),
            ));
        }
    };
    let count = u32::try_from(spec.1)
        .map_err(|_| Error::Settings(format!("{} shards are too many", spec.1)))?;
    Ok(ShardSpec {
        index: spec.0 as u32,
        count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{entry, settings};
    use std::collections::HashMap;

    fn sweep(models: &[&str]) -> Plan {
        let mut s = settings();
        s.batch_sizes = vec![1, 4, 8, 16];
        s.sequence_lengths = vec![16, 64, 128];
        let entries: Vec<_> = models.iter().map(|m| entry(m)).collect();
        Plan::new(&entries, &s)
    }

    #[test]
    fn every_strategy_covers_each_job_once_and_never_splits_a_group() {
        let plan = sweep(&["a", "b", "c"]);
        for strategy in [Strategy::Slice, Strategy::Hash, Strategy::Cost] {
            for n in 1..=8 {
                let shards = assign(&plan, n, strategy).unwrap();
                assert_eq!(shards.len(), plan.jobs().len());
                assert!(
                    shards.iter().all(|&s| (1..=n).contains(&s)),
                    "{strategy:?} {n}"
                );
                let mut group_shard: HashMap<String, u32> = HashMap::new();
                for (job, &shard) in plan.jobs().iter().zip(&shards) {
                    let previous = group_shard.insert(group_key(&job.job), shard);
                    assert!(
                        previous.is_none_or(|p| p == shard),
                        "{strategy:?} {n}: split group"
                    );
                }
            }
        }
    }

    #[test]
    fn slice_balances_counts_and_cost_balances_cost() {
        let plan = sweep(&["a", "b"]);
        // 12 groups of 2 jobs over 4 shards: 3 groups each.
        let shards = assign(&plan, 4, Strategy::Slice).unwrap();
        for s in 1..=4 {
            assert_eq!(shards.iter().filter(|&&x| x == s).count(), 6, "{shards:?}");
        }
        let shards = assign(&plan, 3, Strategy::Cost).unwrap();
        let mut load = [0.0; 3];
        for (job, &s) in plan.jobs().iter().zip(&shards) {
            load[s as usize - 1] += estimated_cost(&job.job);
        }
        let (max, total) = (
            load.iter().copied().fold(0.0, f64::max),
            load.iter().sum::<f64>(),
        );
        // The largest group (batch 16 x seq 128) is under half the total, so LPT stays close to
        // an even split.
        assert!(max < total / 3.0 * 1.35, "{load:?}");
    }

    #[test]
    fn hash_keeps_every_job_on_its_shard_when_a_model_is_added() {
        let before = sweep(&["a", "b"]);
        let after = sweep(&["a", "b", "c"]);
        let shards_before = assign(&before, 5, Strategy::Hash).unwrap();
        let shards_after = assign(&after, 5, Strategy::Hash).unwrap();
        let by_id: HashMap<&str, u32> = after
            .jobs()
            .iter()
            .map(|j| j.id.as_str())
            .zip(shards_after.iter().copied())
            .collect();
        for (job, &shard) in before.jobs().iter().zip(&shards_before) {
            assert_eq!(by_id[job.id.as_str()], shard);
        }
        // Not every group on one shard: the hash spreads them.
        assert!(shards_before.iter().any(|&s| s != shards_before[0]));
    }

    #[test]
    fn shard_specs_parse_and_bad_ones_say_the_form() {
        assert_eq!(
            "2/4".parse::<ShardSpec>().unwrap(),
            ShardSpec { index: 2, count: 4 }
        );
        for bad in ["0/4", "5/4", "2", "a/b", "1/0"] {
            let err = bad.parse::<ShardSpec>().unwrap_err().to_string();
            assert!(err.contains("I/N"), "{err}");
        }
    }

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn scheduler_variables_give_the_shard_or_an_error_naming_them() {
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            shard_from_env(env(&slurm), None).unwrap(),
            ShardSpec { index: 3, count: 4 }
        );
        // With --shards, the index is the 0-based shard: one index re-submitted alone
        // (sbatch --array=2: MIN 2, COUNT 1) is shard 3 of 4, not 1 of 1.
        let resubmitted = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
        ];
        assert_eq!(
            shard_from_env(env(&resubmitted), Some(4)).unwrap(),
            ShardSpec { index: 3, count: 4 }
        );
        let err = shard_from_env(env(&slurm), Some(3))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("SLURM_ARRAY_TASK_ID=7 is not below --shards 3"),
            "{err}"
        );
        let err = shard_from_env(env(&slurm[..1]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("SLURM_ARRAY_TASK_MIN"), "{err}");
        let outside = [
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_MIN", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        let err = shard_from_env(env(&outside), None).unwrap_err().to_string();
        assert!(err.contains("SLURM_ARRAY_TASK_ID=9"), "{err}");
        let k8s = [("JOB_COMPLETION_INDEX", "0")];
        assert_eq!(
            shard_from_env(env(&k8s), Some(2)).unwrap(),
            ShardSpec { index: 1, count: 2 }
        );
        let err = shard_from_env(env(&k8s), None).unwrap_err().to_string();
        assert!(err.contains("--shards"), "{err}");
        let both = [("JOB_COMPLETION_INDEX", "0"), ("SLURM_ARRAY_TASK_ID", "1")];
        let err = shard_from_env(env(&both), Some(2)).unwrap_err().to_string();
        assert!(err.contains("SLURM_ARRAY_TASK_ID") && err.contains("JOB_COMPLETION_INDEX"));
        let err = shard_from_env(env(&[]), None).unwrap_err().to_string();
        assert!(err.contains("neither"), "{err}");
        let err = shard_from_env(env(&[("JOB_COMPLETION_INDEX", "x")]), Some(2))
            .unwrap_err()
            .to_string();
        assert!(err.contains("JOB_COMPLETION_INDEX='x'"), "{err}");
    }
}
