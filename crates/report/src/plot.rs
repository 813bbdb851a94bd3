//! SVG charts of a results set (`analyze-latency --plot DIR`), drawn with plotters.
//!
//! - `latency_distribution_b<batch>_s<seq>_<device>_<dtype>_<inputs>_<time boundary>_<machine>.svg`:
//!   one box plot per model (quartiles, whiskers at 1.5 IQR) for each group whose records carry
//!   raw latencies. Every grouping field is in the name (the machine unless grouping ignores it),
//!   each reduced to `[A-Za-z0-9.-]`, so no two groups share a file;
//! - `latency_vs_sequence_length.svg`: median latency against sequence length, one line per model
//!   and group, when the results hold several sequence lengths;
//! - `latency_vs_batch_size.svg`: the same against batch size.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::schema::{ResultRow, Shape};

const SIZE: (u32, u32) = (960, 600);

/// Writes the charts that `rows` support into `dir` (created if needed) and returns their paths.
/// Records are grouped as the analysis groups them: by machine too, unless `ignore_machine`.
///
/// # Errors
/// [`Error::Io`] if `dir` cannot be created, [`Error::Plot`] if a chart cannot be drawn.
pub fn write_charts(rows: &[ResultRow], dir: &Path, ignore_machine: bool) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    let mut groups: Vec<(Shape, Vec<&ResultRow>)> = Vec::new();
    // Only usable raw latencies (the analysis notes the others): a NaN would also stop plotters.
    let usable = |l: &Vec<f64>| !l.is_empty() && l.iter().all(|x| x.is_finite() && *x >= 0.0);
    for row in rows
        .iter()
        .filter(|r| r.latencies_ms.as_ref().is_some_and(usable))
    {
        let shape = row.group(ignore_machine);
        match groups.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, members)) => members.push(row),
            None => groups.push((shape, vec![row])),
        }
    }
    let mut names = HashSet::new();
    for (shape, members) in &groups {
        let path = dir.join(unique(&mut names, distribution_name(shape)));
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
        let series = sweep_series(rows, axis, ignore_machine);
        if series.values().any(|points| spans(points)) {
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

/// The distribution chart's file name (without `.svg`): every grouping field, in `Shape` order.
fn distribution_name(shape: &Shape) -> String {
    let mut parts = vec![
        format!("b{}", shape.batch_size),
        format!("s{}", shape.sequence_length),
        slug(&shape.device),
        slug(&shape.dtype),
        slug(&shape.inputs),
        slug(&shape.time_boundary),
    ];
    if let Some(machine) = &shape.machine {
        parts.push(slug(&machine.to_string()));
    }
    format!("latency_distribution_{}", parts.join("_"))
}

/// `name.svg`, or `name-2.svg`, `name-3.svg`... when two groups' names collide after `slug`.
fn unique(taken: &mut HashSet<String>, name: String) -> String {
    let mut candidate = format!("{name}.svg");
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{name}-{n}.svg");
    }
    candidate
}

/// Longest field in a file name; longer ones are cut and end in a hash of the whole text, so
/// names stay within file-system limits (255 bytes) and distinct.
const MAX_SLUG: usize = 40;

/// `text` for a file name: ASCII letters, digits, `.` and `-` kept, runs of anything else (`/`,
/// `:`, spaces, `_`, non-ASCII) become one `-`; never empty, never `.` or `..`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_owned();
    if out.chars().all(|c| c == '.') {
        out = format!("x{out}");
    }
    if out.len() > MAX_SLUG {
        // FNV-1a: stable across runs and platforms, unlike std's hasher.
        let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        out.truncate(MAX_SLUG - 9);
        out = format!("{out}-{:08x}", hash as u32);
    }
    out
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
    // The segmented axis would label with `{:?}`, quoting each name.
    let label = |value: &SegmentValue<&String>| match value {
        SegmentValue::Exact(name) | SegmentValue::CenterOf(name) => (*name).clone(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .y_desc("latency per batch (ms)")
        .x_label_formatter(&label)
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

/// Whether sorted `points` cover more than one x (a line to draw).
fn spans(points: &[(f64, f64)]) -> bool {
    points.windows(2).any(|w| w[0].0 != w[1].0)
}

/// Series label → (x, median latency) points, sorted by x. A series is one model in one group
/// but for the axis's own field, so records of other inputs, time boundaries or machines never
/// share a line.
fn sweep_series(
    rows: &[ResultRow],
    axis: Axis,
    ignore_machine: bool,
) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for row in rows {
        let shape = row.group(ignore_machine);
        let (fixed, x) = match axis {
            Axis::SequenceLength => (format!("batch {}", row.batch_size), row.sequence_length),
            Axis::BatchSize => (format!("seq {}", row.sequence_length), row.batch_size),
        };
        let mut label = format!(
            "{} ({fixed}, {}, {}",
            row.model_name, shape.device, shape.dtype
        );
        if shape.inputs != "full" {
            label.push_str(&format!(", inputs {}", shape.inputs));
        }
        if shape.time_boundary != "forward" {
            label.push_str(&format!(", timed {}", shape.time_boundary));
        }
        if let Some(machine) = &shape.machine {
            label.push_str(&format!(", {machine}"));
        }
        label.push(')');
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
    for (index, (name, points)) in series.iter().filter(|(_, p)| spans(p)).enumerate() {
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
