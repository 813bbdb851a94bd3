//! `latency-analysis --tokenizer tokenizer.json`: `model_zoo::InputGenerator::text` with a fuzzed
//! tokenizer.json (loading, the pad id lookup) on model-zoo's test texts, then `.batches(b, s, n)`
//! (truncation, encoding, the vocabulary check). The first three bytes choose the batch size
//! (1..=8), sequence length (2..=257) and batch count (1..=4); the rest is the tokenizer.json.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use model_zoo::InputGenerator;

#[path = "common.rs"]
mod common;

fn texts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/model-zoo/tests/data/texts.txt")
}

fuzz_target!(|data: &[u8]| {
    let [b, s, n, json @ ..] = data else {
        return;
    };
    let (batch, seq, count) = (u32::from(b % 8) + 1, u32::from(*s) + 2, usize::from(n % 4) + 1);
    let path = common::write_temp("tokenizer.json", json);
    let Ok(generator) = InputGenerator::text(&texts(), &path, 1 << 20) else {
        return;
    };
    if let Ok(batches) = generator.batches(batch, seq, count) {
        assert_eq!(batches.len(), count);
        for batch in &batches {
            assert!(batch.lengths.iter().all(|&l| (1..=seq).contains(&l)));
        }
    }
});
