//! Comparing a run with a saved baseline, record by record, for CI gates.

use std::collections::HashMap;

use serde::Serialize;
use timing_core::stats::{CompareConfig, Verdict, compare};

use super::notes::{Note, Origin, raw_samples};
use crate::error::Result;
use crate::schema::{RecordKey, ResultRow};

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
    /// Current versus baseline: `faster`, `slower`, `no_difference`. Without raw latencies it
    /// only reflects the point change against the threshold.
    pub verdict: Verdict,
    /// Whether the verdict rests on raw latencies (and so on a significance test).
    pub significance_tested: bool,
    /// Slower beyond the threshold with significance: what fails a CI gate.
    pub regression: bool,
}

/// A run compared with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineReport {
    /// The noise threshold, as a fraction (0.05 = 5%).
    pub threshold: f64,
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
    /// The number of regressions.
    pub fn regressions(&self) -> usize {
        self.entries.iter().filter(|e| e.regression).count()
    }
}

/// Compares every current record with the baseline record of the same model and shape (the first
/// one, if a file repeats a key). A regression needs raw latencies on both sides (JSON files):
/// the median ratio's interval wholly above 1, the change beyond `threshold`, and p < 0.05.
///
/// A record whose raw latencies are unusable is compared by its recorded median, and noted.
///
/// # Errors
/// A negative or non-finite threshold.
pub fn compare_to_baseline(
    current: &[ResultRow],
    baseline: &[ResultRow],
    threshold: f64,
) -> Result<BaselineReport> {
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(timing_core::Error::InvalidConfig(format!(
            "baseline threshold {threshold} must be a fraction >= 0, e.g. 0.05"
        ))
        .into());
    }
    let config = CompareConfig {
        threshold,
        ..CompareConfig::default()
    };
    let (current_samples, mut notes) = raw_samples(current, Origin::Results);
    let (base_samples, base_notes) = raw_samples(baseline, Origin::Baseline);
    notes.extend(base_notes);
    let mut base_by_key: HashMap<RecordKey, usize> = HashMap::new();
    for (index, row) in baseline.iter().enumerate() {
        base_by_key.entry(row.key()).or_insert(index);
    }
    let mut seen = std::collections::HashSet::new();
    let mut entries = Vec::new();
    let mut only_current = Vec::new();
    for (index, row) in current.iter().enumerate() {
        let key = row.key();
        if !seen.insert(key.clone()) {
            continue;
        }
        let Some(&base_index) = base_by_key.get(&key) else {
            only_current.push(key);
            continue;
        };
        let base = &baseline[base_index];
        let change = row.median_latency / base.median_latency - 1.0;
        let mut entry = BaselineEntry {
            key,
            baseline_median: base.median_latency,
            current_median: row.median_latency,
            change,
            change_ci_low: None,
            change_ci_high: None,
            p_value: None,
            verdict: point_verdict(change, threshold),
            significance_tested: false,
            regression: false,
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
        entries.push(entry);
    }
    let current_keys: std::collections::HashSet<RecordKey> =
        current.iter().map(ResultRow::key).collect();
    let mut listed = std::collections::HashSet::new();
    let only_baseline = baseline
        .iter()
        .map(ResultRow::key)
        .filter(|key| !current_keys.contains(key) && listed.insert(key.clone()))
        .collect();
    Ok(BaselineReport {
        threshold,
        entries,
        only_current,
        only_baseline,
        notes,
    })
}

fn point_verdict(change: f64, threshold: f64) -> Verdict {
    if change > threshold {
        Verdict::Slower
    } else if change < -threshold {
        Verdict::Faster
    } else {
        Verdict::NoDifference
    }
}
