//! Analysing a large results file: 100,000 records (500 models x 200 shapes), read from CSV,
//! analysed and rendered as text, as `analyze-latency big.csv` does.
//!
//! `cargo bench -p report --bench analyze`. The generated file is left at
//! `$TMPDIR/report-bench-100k.csv` so the CLI can be timed on it too
//! (`time target/release/analyze-latency $TMPDIR/report-bench-100k.csv > /dev/null`).
//! Results are in `docs/analysis.md`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use report::ResultRow;
use report::analysis::{AnalysisConfig, analyze};
use report::export::{Format, render};
use report::io::{read_results, to_csv};

fn records() -> Vec<ResultRow> {
    let mut rows = Vec::with_capacity(100_000);
    for shape in 0..200u64 {
        let (batch, seq) = (1 << (shape % 8), 64 * (1 + shape / 8));
        for model in 0..500u64 {
            let mean = (batch * seq) as f64 * 1e-3 * (1.0 + (model % 97) as f64 / 100.0);
            rows.push(ResultRow {
                model_name: format!("model-{model}"),
                model_type: ["flex_bert", "mosaic_bert", "hf_bert", "modern_bert"]
                    [(model % 4) as usize]
                    .into(),
                batch_size: batch,
                sequence_length: seq,
                num_samples: 1000,
                mean_latency: mean,
                median_latency: mean * 0.99,
                std_latency: mean * 0.05,
                min_latency: mean * 0.9,
                max_latency: mean * 1.5,
                p95_latency: mean * 1.1,
                p99_latency: mean * 1.2,
                tokens_per_second: (batch * seq) as f64 / (mean / 1e3),
                samples_per_second: batch as f64 / (mean / 1e3),
                peak_memory_mb: Some(100.0 + (model % 13) as f64),
                device: Some("cuda:0".into()),
                dtype: Some("bf16".into()),
                memory_kind: Some("device".into()),
                ..ResultRow::default()
            });
        }
    }
    rows
}

fn bench(c: &mut Criterion) {
    let path = std::env::temp_dir().join("report-bench-100k.csv");
    std::fs::write(&path, to_csv(&records()).unwrap()).unwrap();
    let mut group = c.benchmark_group("analyze_100k_records");
    group.sample_size(10);
    group.bench_function("read_csv", |b| {
        b.iter(|| black_box(read_results(&path).unwrap()))
    });
    let rows = read_results(&path).unwrap();
    group.bench_function("analyze", |b| {
        b.iter(|| black_box(analyze(&rows, &AnalysisConfig::default()).unwrap()))
    });
    group.bench_function("read_analyze_render_text", |b| {
        b.iter(|| {
            let rows = read_results(&path).unwrap();
            let analysis = analyze(&rows, &AnalysisConfig::default()).unwrap();
            black_box(render(&analysis, None, Format::Text).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
