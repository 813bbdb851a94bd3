//! Records as a polars `DataFrame`: the one place the analysis meets polars.

use polars::prelude::*;

use crate::error::Result;
use crate::schema::ResultRow;

/// Builds the analysis frame of `rows`: identity, `group` (each row's group number, from
/// `group_of`), the ranked metrics, and `tokens` (batch size × sequence length). `row` is the
/// record's position in the input, so results can point back to it (e.g. for its raw latencies).
/// Peak memory is null where it was not measured (see [`ResultRow::ranked_memory_mb`]).
///
/// # Errors
/// A polars error, which the fixed schema rules out in practice.
pub fn to_frame(rows: &[ResultRow], group_of: &[u64]) -> Result<DataFrame> {
    let text = |name: &str, f: &dyn Fn(&ResultRow) -> String| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let number = |name: &str, f: &dyn Fn(&ResultRow) -> f64| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    let columns = vec![
        Column::new("row".into(), (0..rows.len() as u64).collect::<Vec<_>>()),
        Column::new("group".into(), group_of.to_vec()),
        text("model_name", &|r| r.model_name.clone()),
        text("model_type", &|r| r.model_type.clone()),
        number("mean_latency", &|r| r.mean_latency),
        number("std_latency", &|r| r.std_latency),
        number("p95_latency", &|r| r.p95_latency),
        number("tokens_per_second", &|r| r.tokens_per_second),
        Column::new(
            "peak_memory_mb".into(),
            rows.iter()
                .map(ResultRow::ranked_memory_mb)
                .collect::<Vec<_>>(),
        ),
        text("memory_kind", &|r| {
            r.memory_kind
                .clone()
                .unwrap_or_else(|| "unknown".to_owned())
        }),
        // In floating point: a product of two file values must not overflow.
        number("tokens", &|r| {
            r.batch_size as f64 * r.sequence_length as f64
        }),
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}

/// Splits `frame` into one frame per group, groups in order of first appearance and rows in file
/// order within each.
///
/// # Errors
/// A polars error.
pub fn by_group(frame: &DataFrame) -> Result<Vec<DataFrame>> {
    Ok(frame.partition_by_stable(["group"], true)?)
}

/// The values of a string column.
pub(crate) fn strings(frame: &DataFrame, name: &str) -> Result<Vec<String>> {
    let column = frame.column(name)?.str()?;
    Ok(column
        .iter()
        .map(|v| v.unwrap_or_default().to_owned())
        .collect())
}

/// The values of a float column (nulls as `None`).
pub(crate) fn floats(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>> {
    Ok(frame.column(name)?.f64()?.iter().collect())
}

/// The values of an unsigned column.
pub(crate) fn counts(frame: &DataFrame, name: &str) -> Result<Vec<u64>> {
    Ok(frame
        .column(name)?
        .u64()?
        .iter()
        .map(Option::unwrap_or_default)
        .collect())
}
