//! SVG charts of a results set (`analyze-latency --plot DIR`), drawn with plotters.
//!
//! - `latency_distribution_<shape>.svg`: one box plot per model (quartiles, whiskers at 1.5 IQR)
//!   for each shape group whose records carry raw latencies;
//! - `latency_vs_sequence_length.svg`: median latency against sequence length, one line per model
//!   and batch size, when the results hold several sequence lengths;
//! - `latency_vs_batch_size.svg`: the same against batch size.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::schema::{ResultRow, Shape};

const SIZE: (u32, u32) = (960, 600);

/// Writes the charts that `rows` support into `dir` (created if needed) and returns their paths.
///
/// # Errors
/// [`Error::Io`] if `dir` cannot be created, [`Error::Plot`] if a chart cannot be drawn.
pub fn write_charts(rows: &[ResultRow], dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    let mut groups: Vec<(Shape, Vec<&ResultRow>)> = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.latencies_ms.as_ref().is_some_and(|l| !l.is_empty()))
    {
        let shape = row.shape();
        match groups.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, members)) => members.push(row),
            None => groups.push((shape, vec![row])),
        }
    }
    for (shape, members) in &groups {
        let path = dir.join(format!(
            "latency_distribution_b{}_s{}_{}_{}.svg",
            shape.batch_size,
            shape.sequence_length,
            slug(&shape.device),
            slug(&shape.dtype)
        ));
        distribution(&path, shape, members).map_err(|message| Error::Plot {
            path: path.clone(),
            message,
        })?;
        written.push(path);
    }
    let sweeps = [
        (
            "latency_vs_sequence_length.svg",
            "sequence length",
            Axis::SequenceLength,
        ),
        ("latency_vs_batch_size.svg", "batch size", Axis::BatchSize),
    ];
    for (name, label, axis) in sweeps {
        let series = sweep_series(rows, axis);
        if series.values().any(|points| points.len() > 1) {
            let path = dir.join(name);
            sweep(&path, label, &series).map_err(|message| Error::Plot {
                path: path.clone(),
                message,
            })?;
            written.push(path);
        }
    }
    Ok(written)
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn distribution(path: &Path, shape: &Shape, rows: &[&ResultRow]) -> Result<(), String> {
    let names: Vec<String> = rows.iter().map(|r| r.model_name.clone()).collect();
    let quartiles: Vec<Quartiles> = rows
        .iter()
        .map(|r| Quartiles::new(r.latencies_ms.as_deref().unwrap_or(&[])))
        .collect();
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for q in &quartiles {
        let v = q.values();
        low = low.min(f64::from(v[0]));
        high = high.max(f64::from(v[4]));
    }
    let pad = ((high - low) * 0.1).max(high * 0.01).max(1e-6);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("Latency distribution, {shape}"), ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(
            names[..].into_segmented(),
            ((low - pad).max(0.0) as f32)..((high + pad) as f32),
        )
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .y_desc("latency per batch (ms)")
        .disable_x_mesh()
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(names.iter().zip(&quartiles).map(|(name, q)| {
            Boxplot::new_vertical(SegmentValue::CenterOf(name), q)
                .width(30)
                .style(BLUE)
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[derive(Clone, Copy)]
enum Axis {
    SequenceLength,
    BatchSize,
}

/// Series label → (x, median latency) points, sorted by x.
fn sweep_series(rows: &[ResultRow], axis: Axis) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in rows {
        let shape = row.shape();
        let (label, x) = match axis {
            Axis::SequenceLength => (
                format!(
                    "{} (batch {}, {}, {})",
                    row.model_name, row.batch_size, shape.device, shape.dtype
                ),
                row.sequence_length,
            ),
            Axis::BatchSize => (
                format!(
                    "{} (seq {}, {}, {})",
                    row.model_name, row.sequence_length, shape.device, shape.dtype
                ),
                row.batch_size,
            ),
        };
        series
            .entry(label)
            .or_default()
            .push((x as f64, row.median_latency));
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    series
}

fn sweep(
    path: &Path,
    label: &str,
    series: &BTreeMap<String, Vec<(f64, f64)>>,
) -> Result<(), String> {
    let points = series.values().flatten();
    let x_max = points.clone().map(|p| p.0).fold(1.0, f64::max);
    let y_max = points.map(|p| p.1).fold(1e-6, f64::max);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Median latency against {label}"),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max * 1.05, 0.0..y_max * 1.1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(label)
        .y_desc("median latency per batch (ms)")
        .draw()
        .map_err(|e| e.to_string())?;
    for (index, (name, points)) in series.iter().filter(|(_, p)| p.len() > 1).enumerate() {
        let color = Palette99::pick(index).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}
