//! `latency-analysis --text-file FILE --tokenizer tokenizer.json`:
//! `model_zoo::InputGenerator::text` on a fuzzed text file with the small WordPiece tokenizer of
//! model-zoo's tests (120 ids), then `.batches(b, s, n)`. The first three bytes choose the batch
//! size (1..=8), sequence length (2..=257) and batch count (1..=4); the rest is the text file.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use model_zoo::InputGenerator;

#[path = "common.rs"]
mod common;

fn tokenizer() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/model-zoo/tests/data/tokenizer.json")
}

fuzz_target!(|data: &[u8]| {
    let [b, s, n, text @ ..] = data else {
        return;
    };
    let (batch, seq, count) = (u32::from(b % 8) + 1, u32::from(*s) + 2, usize::from(n % 4) + 1);
    let path = common::write_temp("texts.txt", text);
    let Ok(generator) = InputGenerator::text(&path, &tokenizer(), 120) else {
        return;
    };
    if let Ok(batches) = generator.batches(batch, seq, count) {
        assert_eq!(batches.len(), count);
        for batch in &batches {
            assert!(batch.lengths.iter().all(|&l| (1..=seq).contains(&l)));
            assert_eq!(batch.input_ids.size(), [batch.lengths.len() as i64, i64::from(seq)]);
        }
    }
});
