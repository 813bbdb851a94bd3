//! The host memory peak of a CPU job is its own: alone in this test binary, so that no other
//! test's allocations share the process's resident set.

use model_zoo::{Dtype, Lengths, ModelEntry};
use report::ResultRow;
use runner::{CpuDevice, Inputs, Outcome, Plan, Runner, RunnerOptions, Sampling, Settings, Silent};

fn mlm(name: &str) -> ModelEntry {
    // MLM logits are batch x 256 x 8000 floats: 131 MB at batch 16, 8 MB at batch 1.
    serde_json::from_value(serde_json::json!({
        "name": name, "model_type": "hf_bert", "task_type": "mlm",
        "model_config": {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
                         "intermediate_size": 128, "vocab_size": 8000}
    }))
    .unwrap()
}

fn peaks(batch_sizes: &[u32]) -> Vec<(u64, f64)> {
    run(&[mlm("mlm")], batch_sizes)
        .into_iter()
        .map(|row| (row.batch_size, row.peak_memory_mb.unwrap()))
        .collect()
}

fn run(entries: &[ModelEntry], batch_sizes: &[u32]) -> Vec<ResultRow> {
    let settings = Settings {
        batch_sizes: batch_sizes.to_vec(),
        sequence_lengths: vec![256],
        dtype: Dtype::Fp32,
        device: "cpu".to_owned(),
        threads: 1,
        inputs: Inputs::Random(Lengths::Full),
        seed: 0,
        include_transfer: false,
        sampling: Sampling {
            warmup_batches: 1,
            measure_batches: 3,
            ..Sampling::default()
        },
    };
    let plan = Plan::new(entries, &settings);
    Runner::new(&plan, &CpuDevice, &Silent, RunnerOptions::default())
        .map(|result| match result.outcome {
            Outcome::Measured(row) => *row,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// One test, so that nothing else runs in this process meanwhile.
#[test]
fn host_peaks_depend_neither_on_the_order_of_batch_sizes_nor_on_the_order_of_models() {
    // First, in a fresh process: two identical small models (activations of a few KiB, so the C allocator's layout cannot
    // move the figure): the first built is not charged for libtorch's one-time setup (it was:
    // 4.8 MiB against 0.7 MiB for the second).
    let small = |name: &str| -> ModelEntry {
        serde_json::from_value(serde_json::json!({
            "name": name, "model_type": "hf_bert",
            "model_config": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                             "intermediate_size": 64, "vocab_size": 128}
        }))
        .unwrap()
    };
    let order = |names: [&str; 2]| {
        let rows = run(&names.map(small), &[1]);
        let peak = |name: &str| {
            rows.iter()
                .find(|r| r.model_name == name)
                .and_then(|r| r.peak_memory_mb)
                .unwrap()
        };
        (peak("a"), peak("b"))
    };
    let (a_first, b_second) = order(["a", "b"]);
    let (b_first, a_second) = order(["b", "a"]);
    for (first, second) in [(a_first, a_second), (b_first, b_second)] {
        assert!(
            (first - second).abs() < 1.0,
            "first built {first} MiB, second built {second} MiB"
        );
    }
    let large_first = peaks(&[16, 1]);
    let small_first = peaks(&[1, 16]);
    let peak_of = |runs: &[(u64, f64)], batch: u64| {
        runs.iter()
            .find(|(b, _)| *b == batch)
            .map(|(_, p)| *p)
            .unwrap()
    };
    let (after_large, before_large) = (peak_of(&large_first, 1), peak_of(&small_first, 1));
    let large = peak_of(&large_first, 16).min(peak_of(&small_first, 16));
    // The batch-16 logits alone are 125 MiB more than batch 1's.
    assert!(
        large - after_large > 100.0,
        "batch 16 {large} MiB vs batch 1 {after_large} MiB"
    );
    // What this guards against is batch 16's memory (over 100 MiB) staying charged to the next
    // job; the allocator's own leftovers vary by a few to ~15 MiB between runs on a loaded
    // machine (seen 3.4 vs 15.7 MiB in CI), so the margin is 30 MiB, well below that.
    assert!(
        (after_large - before_large).abs() < 30.0,
        "batch 1 after batch 16: {after_large} MiB; before it: {before_large} MiB ({large_first:?} {small_first:?})"
    );
}
