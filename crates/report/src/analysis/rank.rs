//! Rankings (top 5 by latency, throughput, memory, consistency) and per-token efficiency (top 3),
//! within one shape group.

use polars::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::table::{floats, strings};

/// One place in a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// 1 for the best.
    pub rank: usize,
    /// Model name.
    pub model_name: String,
    /// Model type.
    pub model_type: String,
    /// The ranked value, in the ranking's unit.
    pub value: f64,
}

/// The four rankings of the Python analyzer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rankings {
    /// Lowest `mean_latency` (ms) first.
    pub fastest: Vec<Ranked>,
    /// Highest `tokens_per_second` first.
    pub highest_throughput: Vec<Ranked>,
    /// Lowest `peak_memory_mb` first, among records that measured memory.
    pub most_memory_efficient: Vec<Ranked>,
    /// What that memory is: `device` (CUDA allocator), `host` (process resident set), `unknown`
    /// (Python tool files), or `mixed`.
    pub memory_kind: String,
    /// Lowest `std_latency` (ms) first.
    pub most_consistent: Vec<Ranked>,
}

/// Per-token efficiency: latency and memory divided by batch size × sequence length.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Efficiency {
    /// Lowest `latency_per_token` (ms per token) first.
    pub latency_per_token: Vec<Ranked>,
    /// Lowest `memory_per_token` (MB per token) first.
    pub memory_per_token: Vec<Ranked>,
}

/// The rankings of one group's frame, `top` entries each.
pub(crate) fn rankings(group: &DataFrame, top: usize) -> Result<Rankings> {
    let with_memory = group
        .clone()
        .lazy()
        .filter(col("peak_memory_mb").is_not_null())
        .collect()?;
    let mut kinds = strings(&with_memory, "memory_kind")?;
    kinds.sort();
    kinds.dedup();
    let memory_kind = match kinds.as_slice() {
        [] => "none".to_owned(),
        [one] => one.clone(),
        _ => "mixed".to_owned(),
    };
    Ok(Rankings {
        fastest: ranked(group, "mean_latency", false, top)?,
        highest_throughput: ranked(group, "tokens_per_second", true, top)?,
        most_memory_efficient: ranked(&with_memory, "peak_memory_mb", false, top)?,
        memory_kind,
        most_consistent: ranked(group, "std_latency", false, top)?,
    })
}

/// The efficiency lists of one group's frame, `top` entries each.
pub(crate) fn efficiency(group: &DataFrame, top: usize) -> Result<Efficiency> {
    let per_token = group
        .clone()
        .lazy()
        .with_columns([
            (col("mean_latency") / col("tokens")).alias("latency_per_token"),
            (col("peak_memory_mb") / col("tokens")).alias("memory_per_token"),
        ])
        .collect()?;
    let with_memory = per_token
        .clone()
        .lazy()
        .filter(col("memory_per_token").is_not_null())
        .collect()?;
    Ok(Efficiency {
        latency_per_token: ranked(&per_token, "latency_per_token", false, top)?,
        memory_per_token: ranked(&with_memory, "memory_per_token", false, top)?,
    })
}

/// The first `top` rows by `column` (ascending unless `descending`), ties in file order.
fn ranked(frame: &DataFrame, column: &str, descending: bool, top: usize) -> Result<Vec<Ranked>> {
    let options = SortMultipleOptions::default()
        .with_order_descending(descending)
        .with_maintain_order(true);
    let sorted = frame.sort([column], options)?.head(Some(top));
    let names = strings(&sorted, "model_name")?;
    let types = strings(&sorted, "model_type")?;
    let values = floats(&sorted, column)?;
    Ok(names
        .into_iter()
        .zip(types)
        .zip(values)
        .enumerate()
        .map(|(i, ((model_name, model_type), value))| Ranked {
            rank: i + 1,
            model_name,
            model_type,
            value: value.unwrap_or(f64::NAN),
        })
        .collect())
}
