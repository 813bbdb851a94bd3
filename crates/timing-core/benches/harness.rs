//! Harness overhead: the cost per sample of timing an empty routine.
//!
//! `cargo bench -p timing-core --bench harness`. Each criterion iteration runs the harness for
//! 1,000 samples of an empty closure with no warm-up, so the reported time / 1,000 is the harness's
//! own cost per sample (two clock reads, two fence calls, the loop, the push). Results are in
//! `docs/timing-core.md`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use timing_core::{Harness, HarnessConfig, StopRule, Warmup};

const SAMPLES: usize = 1_000;

fn config(calls_per_sample: usize) -> HarnessConfig {
    HarnessConfig {
        warmup: Warmup {
            min_iters: 0,
            min_time: Default::default(),
            ..Warmup::default()
        },
        stop: StopRule::Count(SAMPLES),
        calls_per_sample,
        ..HarnessConfig::default()
    }
}

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("harness_1000_samples");
    group.bench_function("empty_routine", |b| {
        b.iter(|| {
            let mut harness = Harness::new(config(1)).unwrap();
            black_box(harness.run(|| black_box(())))
        })
    });
    group.bench_function("empty_routine_with_fence", |b| {
        b.iter(|| {
            let mut harness = Harness::new(config(1))
                .unwrap()
                .with_fence(|| black_box(()));
            black_box(harness.run(|| black_box(())))
        })
    });
    group.bench_function("empty_routine_batched_x10", |b| {
        b.iter(|| {
            let mut harness = Harness::new(config(10)).unwrap();
            black_box(harness.run(|| black_box(())))
        })
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
