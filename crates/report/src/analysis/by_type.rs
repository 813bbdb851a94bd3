//! The model-type comparison: per type, the mean and standard deviation of the main metrics.

use polars::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::table::{floats, strings};

/// Statistics of one model type within a group (standard deviations use n − 1, as pandas; `None`
/// for a single record).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeStats {
    /// The model type.
    pub model_type: String,
    /// Records of this type.
    pub count: usize,
    /// Mean of `mean_latency`, ms.
    pub mean_latency_mean: f64,
    /// Standard deviation of `mean_latency`, ms.
    pub mean_latency_std: Option<f64>,
    /// Mean of `tokens_per_second`.
    pub tokens_per_second_mean: f64,
    /// Standard deviation of `tokens_per_second`.
    pub tokens_per_second_std: Option<f64>,
    /// Mean of measured `peak_memory_mb`, if any was measured.
    pub peak_memory_mb_mean: Option<f64>,
    /// Standard deviation of measured `peak_memory_mb`.
    pub peak_memory_mb_std: Option<f64>,
    /// Mean of `p95_latency`, ms (the Python analyzer computed but did not print it).
    pub p95_latency_mean: f64,
}

/// Per-type statistics of one group's frame, types in order of first appearance; empty when the
/// group holds a single type.
pub(crate) fn by_type(group: &DataFrame) -> Result<Vec<TypeStats>> {
    let stats = group
        .clone()
        .lazy()
        .group_by_stable([col("model_type")])
        .agg([
            len().alias("count"),
            col("mean_latency").mean().alias("mean_latency_mean"),
            col("mean_latency").std(1).alias("mean_latency_std"),
            col("tokens_per_second")
                .mean()
                .alias("tokens_per_second_mean"),
            col("tokens_per_second")
                .std(1)
                .alias("tokens_per_second_std"),
            col("peak_memory_mb").mean().alias("peak_memory_mb_mean"),
            col("peak_memory_mb").std(1).alias("peak_memory_mb_std"),
            col("p95_latency").mean().alias("p95_latency_mean"),
        ])
        .collect()?;
    if stats.height() < 2 {
        return Ok(Vec::new());
    }
    let types = strings(&stats, "model_type")?;
    let count: Vec<usize> = stats
        .column("count")?
        .cast(&DataType::UInt64)?
        .u64()?
        .iter()
        .map(|c| c.unwrap_or_default() as usize)
        .collect();
    let get = |name: &str| floats(&stats, name);
    let (lat, lat_sd) = (get("mean_latency_mean")?, get("mean_latency_std")?);
    let (tps, tps_sd) = (
        get("tokens_per_second_mean")?,
        get("tokens_per_second_std")?,
    );
    let (mem, mem_sd) = (get("peak_memory_mb_mean")?, get("peak_memory_mb_std")?);
    let p95 = get("p95_latency_mean")?;
    Ok((0..types.len())
        .map(|i| TypeStats {
            model_type: types[i].clone(),
            count: count[i],
            mean_latency_mean: lat[i].unwrap_or(f64::NAN),
            mean_latency_std: lat_sd[i].filter(|x| x.is_finite()),
            tokens_per_second_mean: tps[i].unwrap_or(f64::NAN),
            tokens_per_second_std: tps_sd[i].filter(|x| x.is_finite()),
            peak_memory_mb_mean: mem[i],
            peak_memory_mb_std: mem_sd[i].filter(|x| x.is_finite()),
            p95_latency_mean: p95[i].unwrap_or(f64::NAN),
        })
        .collect())
}
