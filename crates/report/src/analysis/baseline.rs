//! Comparing a run with a saved baseline, record by record, for CI gates.
//!
//! The gate fails closed. With raw latencies on both sides (JSON files) a record is a regression
//! when it is slower beyond the threshold with significance (see [`compare_to_baseline`]). Without
//! them (CSV files, the Python tool's files, unusable raw latencies) the recorded medians are
//! compared against the threshold: a slowdown beyond it is still a regression, marked untested.
//! A baseline that matches no record, or a file that holds one model and shape twice, is an
//! error, never a pass.
//!
//! A gate can also assert "no change" ([`BaselineConfig::require_equivalent`]): every compared
//! record must then be shown equivalent, its whole interval of the change within ±margin, which
//! needs raw latencies on both sides; an untested record can never pass such a gate.

use std::collections::HashMap;

use serde::Serialize;
use timing_core::stats::{CompareConfig, Verdict, compare};

use super::notes::{Note, Origin, raw_samples};
use crate::schema::{RecordKey, ResultRow};

/// Settings of a baseline comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineConfig {
    /// Relative slowdown that counts as a regression (0.05 = 5%, the default).
    pub threshold: f64,
    /// Equivalence margin (a fraction): `equivalent` when the change's whole interval lies within
    /// ±margin. `None` (the default): the threshold.
    pub margin: Option<f64>,
    /// Fail every record that is not shown equivalent, not only regressions.
    pub require_equivalent: bool,
    /// Match records of any machine: by default a record matches only a baseline record of the
    /// same machine (`device_name`, `host_name`, `num_threads`).
    pub ignore_machine: bool,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            threshold: 0.05,
            margin: None,
            require_equivalent: false,
            ignore_machine: false,
        }
    }
}

/// One record present in both the baseline and the current run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineEntry {
    /// Model and shape.
    pub key: RecordKey,
    /// The baseline's median latency, ms.
    pub baseline_median: f64,
    /// The current median latency, ms.
    pub current_median: f64,
    /// Relative change of the median, `current / baseline − 1` (positive is slower).
    pub change: f64,
    /// Lower bound of the 95% interval of the change (with raw latencies on both sides).
    pub change_ci_low: Option<f64>,
    /// Upper bound of that interval.
    pub change_ci_high: Option<f64>,
    /// Mann-Whitney U p-value (with raw latencies).
    pub p_value: Option<f64>,
    /// Current versus baseline: `faster`, `slower`, `equivalent` (the change's whole interval
    /// within ±margin) or `no_difference` (inconclusive). Untested (without raw latencies), it
    /// is the recorded medians' change against the threshold, and never `equivalent`.
    pub verdict: Verdict,
    /// Whether the verdict rests on raw latencies and a significance test; `false`: untested,
    /// the recorded medians were compared.
    pub significance_tested: bool,
    /// What fails a CI gate: slower beyond the threshold, with significance when tested; by the
    /// recorded medians alone when untested.
    pub regression: bool,
    /// Whether this record fails the gate: a regression, or, when the gate requires
    /// equivalence, any verdict other than `equivalent`.
    pub fails_gate: bool,
}

/// A run compared with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineReport {
    /// The noise threshold, as a fraction (0.05 = 5%).
    pub threshold: f64,
    /// The equivalence margin, as a fraction.
    pub equivalence_margin: f64,
    /// Whether every record had to be shown equivalent.
    pub require_equivalent: bool,
    /// Records in both files, in the current run's order.
    pub entries: Vec<BaselineEntry>,
    /// Records only in the current run.
    pub only_current: Vec<RecordKey>,
    /// Records only in the baseline.
    pub only_baseline: Vec<RecordKey>,
    /// Records (of either side) whose raw latencies could not be used: their comparison rests on
    /// the recorded medians.
    pub notes: Vec<Note>,
}

impl BaselineReport {
    /// The number of regressions, tested or not.
    pub fn regressions(&self) -> usize {
        self.entries.iter().filter(|e| e.regression).count()
    }

    /// The number of records that fail the gate: regressions, and with
    /// [`BaselineConfig::require_equivalent`] every record not shown equivalent.
    pub fn failures(&self) -> usize {
        self.entries.iter().filter(|e| e.fails_gate).count()
    }

    /// The number of entries compared by their recorded medians only (no significance test).
    pub fn untested(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| !e.significance_tested)
            .count()
    }
}

/// Why a run cannot be compared with its baseline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// The threshold is negative or not finite.
    #[error("baseline threshold {0} must be a fraction >= 0, e.g. 0.05")]
    Threshold(f64),
    /// The equivalence margin is negative or not finite.
    #[error("equivalence margin {0} must be a fraction >= 0, e.g. 0.02")]
    Margin(f64),
    /// One input holds two records of the same model and shape, so which one to compare is
    /// ambiguous.
    #[error(
        "{} records {first} and {second} both measure model {} at {}: a baseline comparison needs \
         one record per model and shape in each input (a --repeat file holds one per run)",
        origin_name(*.origin), .key.model_name, .key.shape
    )]
    Duplicate {
        /// The input holding them.
        origin: Origin,
        /// The first record, 1-based.
        first: usize,
        /// The second record, 1-based.
        second: usize,
        /// Their model and shape.
        key: Box<RecordKey>,
    },
    /// No record of the run has a record of the same model and shape in the baseline: a gate
    /// that compared nothing would pass in silence.
    #[error("{0}")]
    NoMatch(Box<NoMatch>),
    /// A statistics error from an invalid comparison setting.
    #[error("statistics: {0}")]
    Stats(#[from] timing_core::Error),
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Results => "the results'",
        Origin::Baseline => "the baseline's",
    }
}

/// Why no record matched: the sizes of both inputs and the nearest pair of keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoMatch {
    /// Records in the run.
    pub results: usize,
    /// Records in the baseline.
    pub baseline: usize,
    /// The pair of records whose keys differ in the fewest fields (`None` when a side is empty).
    pub nearest: Option<Nearest>,
}

/// The nearest pair of non-matching records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nearest {
    /// The run's record, 1-based.
    pub record: usize,
    /// Its key.
    pub key: RecordKey,
    /// The baseline's record, 1-based.
    pub baseline_record: usize,
    /// Its key.
    pub baseline_key: RecordKey,
    /// The fields in which they differ: (field, run's value, baseline's value).
    pub differences: Vec<(&'static str, String, String)>,
}

impl std::fmt::Display for NoMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no record of the results ({} records) has a record of the same model and shape in \
             the baseline ({} records), so the baseline gate has nothing to compare",
            self.results, self.baseline
        )?;
        let Some(near) = &self.nearest else {
            return Ok(());
        };
        let fields: Vec<String> = near
            .differences
            .iter()
            .map(|(field, run, base)| format!("{field} ('{run}' here, '{base}' in the baseline)"))
            .collect();
        write!(
            f,
            "; nearest: record {} (model {}, {}) and baseline record {} (model {}, {}) differ in {}",
            near.record,
            near.key.model_name,
            near.key.shape,
            near.baseline_record,
            near.baseline_key.model_name,
            near.baseline_key.shape,
            fields.join(", ")
        )?;
        let differs = |name: &str| near.differences.iter().any(|(field, ..)| *field == name);
        if differs("device") && near.baseline_key.shape.device == "unknown" {
            f.write_str(
                "; the baseline records no device (a Python-tool file?): it can only match \
                 records without one",
            )?;
        }
        if ["device_name", "host_name", "num_threads"]
            .iter()
            .any(|field| differs(field))
        {
            f.write_str(
                "; records match only on the same machine (analyze-latency --ignore-machine \
                 compares across machines)",
            )?;
        }
        Ok(())
    }
}

/// The fields of two keys that differ, as (field, value in `a`, value in `b`).
fn differences(a: &RecordKey, b: &RecordKey) -> Vec<(&'static str, String, String)> {
    let (x, y) = (&a.shape, &b.shape);
    let fields = [
        ("model_name", a.model_name.clone(), b.model_name.clone()),
        (
            "batch_size",
            x.batch_size.to_string(),
            y.batch_size.to_string(),
        ),
        (
            "sequence_length",
            x.sequence_length.to_string(),
            y.sequence_length.to_string(),
        ),
        ("device", x.device.clone(), y.device.clone()),
        ("dtype", x.dtype.clone(), y.dtype.clone()),
        ("inputs", x.inputs.clone(), y.inputs.clone()),
        (
            "time_boundary",
            x.time_boundary.clone(),
            y.time_boundary.clone(),
        ),
    ];
    let mut differ: Vec<_> = fields.into_iter().filter(|(_, u, v)| u != v).collect();
    if let (Some(m), Some(n)) = (&x.machine, &y.machine) {
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
        let count = |v: Option<u64>| v.map_or_else(|| "none".to_owned(), |n| n.to_string());
        let machine = [
            ("device_name", text(&m.device_name), text(&n.device_name)),
            ("host_name", text(&m.host_name), text(&n.host_name)),
            ("num_threads", count(m.num_threads), count(n.num_threads)),
        ];
        differ.extend(machine.into_iter().filter(|(_, u, v)| u != v));
    }
    differ
}

/// Distinct keys compared when looking for the nearest pair, per side: bounds the search to a
/// million key comparisons on huge files.
const NEAREST_SEARCH_LIMIT: usize = 1000;

/// The pair of records, one per side, whose keys differ in the fewest fields; ties go to the
/// earliest records.
fn nearest(current: &[RecordKey], baseline: &[RecordKey]) -> Option<Nearest> {
    let distinct = |keys: &[RecordKey]| {
        let mut seen = std::collections::HashSet::new();
        keys.iter()
            .enumerate()
            .filter(|(_, key)| seen.insert(*key))
            .take(NEAREST_SEARCH_LIMIT)
            .map(|(i, key)| (i, key.clone()))
            .collect::<Vec<_>>()
    };
    let (run, base) = (distinct(current), distinct(baseline));
    let mut best: Option<Nearest> = None;
    for (i, a) in &run {
        for (j, b) in &base {
            let diff = differences(a, b);
            if best
                .as_ref()
                .is_none_or(|n| diff.len() < n.differences.len())
            {
                best = Some(Nearest {
                    record: i + 1,
                    key: a.clone(),
                    baseline_record: j + 1,
                    baseline_key: b.clone(),
                    differences: diff,
                });
            }
        }
    }
    best
}

/// Each key's record index, or the first duplicate.
fn index_keys(
    keys: &[RecordKey],
    origin: Origin,
) -> Result<HashMap<&RecordKey, usize>, BaselineError> {
    let mut by_key = HashMap::with_capacity(keys.len());
    for (index, key) in keys.iter().enumerate() {
        if let Some(first) = by_key.insert(key, index) {
            return Err(BaselineError::Duplicate {
                origin,
                first: first + 1,
                second: index + 1,
                key: Box::new(key.clone()),
            });
        }
    }
    Ok(by_key)
}

/// Compares every current record with the baseline record of the same model and shape (and
/// machine, unless `config.ignore_machine`).
///
/// With usable raw latencies on both sides (JSON files), a record is a regression when it is
/// slower with significance: the median ratio's interval wholly above 1, the change beyond
/// `config.threshold`, and p < 0.05. Otherwise (CSV files, the Python tool's files, raw latencies that
/// are noted as unusable) the recorded medians are compared: a change beyond the threshold is a
/// regression, marked untested (`significance_tested: false`).
///
/// # Errors
/// [`BaselineError::Threshold`] or [`BaselineError::Margin`] for a negative or non-finite
/// threshold or margin;
/// [`BaselineError::Duplicate`] when either input holds one model and shape twice;
/// [`BaselineError::NoMatch`] when no record matches (naming the nearest pair and how it differs).
pub fn compare_to_baseline(
    current: &[ResultRow],
    baseline: &[ResultRow],
    config: &BaselineConfig,
) -> Result<BaselineReport, BaselineError> {
    let threshold = config.threshold;
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(BaselineError::Threshold(threshold));
    }
    let margin = config.margin.unwrap_or(threshold);
    if !(margin.is_finite() && margin >= 0.0) {
        return Err(BaselineError::Margin(margin));
    }
    let require_equivalent = config.require_equivalent;
    let key = |row: &ResultRow| RecordKey {
        model_name: row.model_name.clone(),
        shape: row.group(config.ignore_machine),
    };
    let current_keys: Vec<RecordKey> = current.iter().map(key).collect();
    let base_keys: Vec<RecordKey> = baseline.iter().map(key).collect();
    let config = CompareConfig {
        threshold,
        margin: Some(margin),
        ..CompareConfig::default()
    };
    let current_by_key = index_keys(&current_keys, Origin::Results)?;
    let base_by_key = index_keys(&base_keys, Origin::Baseline)?;
    if !current_keys.iter().any(|key| base_by_key.contains_key(key)) {
        return Err(BaselineError::NoMatch(Box::new(NoMatch {
            results: current.len(),
            baseline: baseline.len(),
            nearest: nearest(&current_keys, &base_keys),
        })));
    }

    let (current_samples, mut notes) = raw_samples(current, Origin::Results);
    let (base_samples, base_notes) = raw_samples(baseline, Origin::Baseline);
    notes.extend(base_notes);
    let mut entries = Vec::new();
    let mut only_current = Vec::new();
    for (index, (row, key)) in current.iter().zip(&current_keys).enumerate() {
        let Some(&base_index) = base_by_key.get(key) else {
            only_current.push(key.clone());
            continue;
        };
        let base = &baseline[base_index];
        if base.median_latency <= 0.0 {
            notes.push(Note::new(
                Origin::Baseline,
                base_index,
                base,
                format!(
                    "its recorded median latency is {}, so no change can be formed; it is left \
                     out of the baseline comparison",
                    base.median_latency
                ),
            ));
            continue;
        }
        let change = row.median_latency / base.median_latency - 1.0;
        let verdict = point_verdict(change, threshold);
        let mut entry = BaselineEntry {
            key: key.clone(),
            baseline_median: base.median_latency,
            current_median: row.median_latency,
            change,
            change_ci_low: None,
            change_ci_high: None,
            p_value: None,
            verdict,
            significance_tested: false,
            // Fail closed: untested, the recorded medians decide.
            regression: verdict == Verdict::Slower,
            fails_gate: false,
        };
        if let (Some(now), Some(then)) = (&current_samples[index], &base_samples[base_index]) {
            let c = compare(now, then, &config)?;
            entry.change = c.ratio - 1.0;
            entry.change_ci_low = c.ratio_ci.low.map(|r| r - 1.0);
            entry.change_ci_high = c.ratio_ci.high.map(|r| r - 1.0);
            entry.p_value = Some(c.p_value);
            entry.verdict = c.verdict;
            entry.significance_tested = true;
            entry.regression = c.verdict == Verdict::Slower;
        }
        entry.fails_gate =
            entry.regression || (require_equivalent && entry.verdict != Verdict::Equivalent);
        entries.push(entry);
    }
    let only_baseline = base_keys
        .iter()
        .filter(|key| !current_by_key.contains_key(key))
        .cloned()
        .collect();
    Ok(BaselineReport {
        threshold,
        equivalence_margin: margin,
        require_equivalent,
        entries,
        only_current,
        only_baseline,
        notes,
    })
}

/// The recorded medians' change against the threshold (no significance test).
fn point_verdict(change: f64, threshold: f64) -> Verdict {
    if change > threshold {
        Verdict::Slower
    } else if change < -threshold {
        Verdict::Faster
    } else {
        Verdict::NoDifference
    }
}
