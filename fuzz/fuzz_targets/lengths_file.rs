//! `latency-analysis --lengths file:PATH`: `model_zoo::Lengths::parse` reading a lengths file (one
//! whole number per line), then random batches drawn with those lengths. The first three bytes
//! choose the batch size (1..=8), sequence length (2..=257, the CLI's minimum is 2) and batch count
//! (1..=4); the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use model_zoo::{InputGenerator, Lengths};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let [b, s, n, file @ ..] = data else {
        return;
    };
    let (batch, seq, count) = (u32::from(b % 8) + 1, u32::from(*s) + 2, usize::from(n % 4) + 1);
    let path = common::write_temp("lengths.txt", file);
    let Ok(lengths) = Lengths::parse(&format!("file:{}", path.display())) else {
        return;
    };
    // The spec shown in records must parse back to the same lengths.
    assert_eq!(lengths.to_string().parse::<Lengths>().ok(), Some(lengths.clone()));
    let generator = InputGenerator::random(lengths, 0, 30522).expect("BERT's vocabulary");
    if let Ok(batches) = generator.batches(batch, seq, count) {
        assert_eq!(batches.len(), count);
        for batch in &batches {
            assert!(batch.lengths.iter().all(|&l| (1..=seq).contains(&l)));
        }
    }
});
