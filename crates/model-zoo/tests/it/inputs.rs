//! The input generator: every length distribution, every bad argument, and real text against
//! what HuggingFace `tokenizers` (Python) returns for the same tokenizer and lines.

use model_zoo::inputs::{Batch, InputGenerator, Lengths, SpecialTokens};
use model_zoo::{Error, tch::Kind};

use crate::{data, temp_dir};

fn rows(batch: &Batch) -> Vec<Vec<i64>> {
    let size = batch.input_ids.size();
    let flat = Vec::<i64>::try_from(batch.input_ids.flatten(0, -1)).unwrap();
    flat.chunks(size[1] as usize).map(<[i64]>::to_vec).collect()
}

fn mask_rows(batch: &Batch) -> Vec<Vec<i64>> {
    let size = batch.attention_mask.size();
    let flat = Vec::<i64>::try_from(batch.attention_mask.flatten(0, -1)).unwrap();
    flat.chunks(size[1] as usize).map(<[i64]>::to_vec).collect()
}

/// Checks the layout every random batch must have: CLS first, SEP last real, ordinary ids in
/// between (none special, all in the vocabulary), PAD after, mask 1 exactly at real tokens.
fn check_layout(batch: &Batch, special: SpecialTokens, vocab: i64) {
    assert_eq!(batch.input_ids.kind(), Kind::Int64);
    assert_eq!(batch.attention_mask.kind(), Kind::Int64);
    for ((ids, mask), &length) in rows(batch).iter().zip(mask_rows(batch)).zip(&batch.lengths) {
        let n = length as usize;
        assert!(n >= 1 && n <= ids.len());
        assert_eq!(ids[0], special.cls);
        if n > 1 {
            assert_eq!(ids[n - 1], special.sep);
        }
        for &id in &ids[1..n.saturating_sub(1).max(1)] {
            assert!(id >= 0 && id < vocab, "id {id} outside 0..{vocab}");
            assert!(
                ![special.cls, special.sep, special.pad].contains(&id),
                "special id {id} inside a row"
            );
        }
        assert!(ids[n..].iter().all(|&id| id == special.pad));
        assert!(mask[..n].iter().all(|&m| m == 1) && mask[n..].iter().all(|&m| m == 0));
    }
    assert_eq!(
        batch.real_tokens(),
        batch.lengths.iter().map(|&n| u64::from(n)).sum::<u64>()
    );
}

#[test]
fn parses_every_form_and_prints_it_back() {
    assert_eq!(Lengths::parse("full").unwrap(), Lengths::Full);
    assert_eq!(
        Lengths::parse("uniform:64..512").unwrap(),
        Lengths::Uniform { min: 64, max: 512 }
    );
    assert_eq!(Lengths::parse("fill:0.25").unwrap(), Lengths::Fill(0.25));
    assert_eq!(Lengths::parse("fill:1").unwrap(), Lengths::Fill(1.0));
    for spec in ["full", "uniform:64..512", "fill:0.25"] {
        assert_eq!(Lengths::parse(spec).unwrap().to_string(), spec);
    }
    let dir = temp_dir("lengths-file");
    let path = dir.join("lengths.txt");
    std::fs::write(&path, "12\n 7 \n\n30\n").unwrap();
    let spec = format!("file:{}", path.display());
    let parsed: Lengths = spec.parse().unwrap();
    assert_eq!(
        parsed,
        Lengths::File {
            path: path.clone(),
            lengths: vec![12, 7, 30]
        }
    );
    assert_eq!(parsed.to_string(), spec);
    assert_eq!(parsed.longest(), Some(30));
}

#[test]
fn rejects_every_bad_spec_with_the_expected_form() {
    for (spec, expected) in [
        ("", "expected full, uniform"),
        ("gaussian:3", "expected full, uniform"),
        ("full:1", "expected full, uniform"),
        ("uniform", "expected full, uniform"),
        ("uniform:", "uniform:MIN..MAX"),
        ("uniform:64", "uniform:MIN..MAX"),
        ("uniform:512..64", "uniform:MIN..MAX"),
        ("uniform:0..64", "uniform:MIN..MAX"),
        ("uniform:a..b", "uniform:MIN..MAX"),
        ("uniform:-1..4", "uniform:MIN..MAX"),
        ("fill:0", "0 < RATIO <= 1"),
        ("fill:1.5", "0 < RATIO <= 1"),
        ("fill:NaN", "0 < RATIO <= 1"),
        ("fill:half", "0 < RATIO <= 1"),
        ("file:", "file:PATH"),
    ] {
        match Lengths::parse(spec) {
            Err(err @ Error::Lengths { .. }) => {
                let message = err.to_string();
                assert!(
                    message.contains(&format!("'{spec}'")) && message.contains(expected),
                    "{spec}: {message}"
                );
            }
            other => panic!("{spec}: expected a lengths error, got {other:?}"),
        }
    }
}

#[test]
fn rejects_bad_length_files_naming_file_and_line() {
    let dir = temp_dir("bad-lengths");
    let missing = dir.join("missing.txt");
    let err = Lengths::parse(&format!("file:{}", missing.display())).unwrap_err();
    assert!(
        matches!(err, Error::InputFile { ref path, .. } if *path == missing),
        "{err}"
    );
    for (content, expected) in [
        ("", "holds no lengths"),
        ("\n \n", "holds no lengths"),
        ("12\nabc\n", "line 2: 'abc' is not a length"),
        ("12\n0\n", "line 2: '0' is not a length"),
        ("12\n3.5\n", "line 2: '3.5' is not a length"),
        ("-4\n", "line 1: '-4' is not a length"),
    ] {
        let path = dir.join("lengths.txt");
        std::fs::write(&path, content).unwrap();
        let message = Lengths::parse(&format!("file:{}", path.display()))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(&path.display().to_string()) && message.contains(expected),
            "{content:?}: {message}"
        );
    }
}

#[test]
fn full_rows_fill_the_sequence() {
    let generator = InputGenerator::random(Lengths::Full, 3, 30522).unwrap();
    let batches = generator.batches(4, 16, 3).unwrap();
    assert_eq!(batches.len(), 3);
    for batch in &batches {
        assert_eq!(batch.input_ids.size(), [4, 16]);
        assert_eq!(batch.lengths, [16; 4]);
        assert_eq!((batch.real_tokens(), batch.padded_tokens()), (64, 64));
        check_layout(batch, SpecialTokens::BERT, 30522);
    }
    // Ordinary ids are drawn from 1000.. as in the previous generator, and differ between batches.
    assert!(
        rows(&batches[0])
            .iter()
            .flatten()
            .skip(1)
            .take(14)
            .all(|&id| id >= 1000)
    );
    assert_ne!(rows(&batches[0]), rows(&batches[1]));
}

#[test]
fn uniform_lengths_cover_the_range_and_repeat_with_the_seed() {
    let generator = InputGenerator::random(Lengths::Uniform { min: 3, max: 9 }, 11, 100).unwrap();
    let batches = generator.batches(8, 12, 100).unwrap();
    let lengths: Vec<u32> = batches.iter().flat_map(|b| b.lengths.clone()).collect();
    assert_eq!(lengths.len(), 800);
    assert!(lengths.iter().all(|n| (3..=9).contains(n)));
    // Each of the 7 values appears about 800/7 ≈ 114 times; far outside 60..170 would mean a bias.
    for value in 3..=9 {
        let count = lengths.iter().filter(|&&n| n == value).count();
        assert!((60..170).contains(&count), "{value} appears {count} times");
    }
    for batch in &batches {
        check_layout(batch, SpecialTokens::SMALL, 100);
    }
    let again = generator.batches(8, 12, 100).unwrap();
    assert_eq!(rows(&batches[7]), rows(&again[7]));
    let other = InputGenerator::random(Lengths::Uniform { min: 3, max: 9 }, 12, 100).unwrap();
    assert_ne!(
        lengths,
        other
            .batches(8, 12, 100)
            .unwrap()
            .iter()
            .flat_map(|b| b.lengths.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn uniform_lengths_are_cut_to_the_sequence() {
    let generator =
        InputGenerator::random(Lengths::parse("uniform:4..64").unwrap(), 0, 50368).unwrap();
    assert_eq!(generator.longest(), Some(64));
    let batches = generator.batches(16, 8, 4).unwrap();
    let lengths: Vec<u32> = batches.iter().flat_map(|b| b.lengths.clone()).collect();
    assert!(lengths.iter().all(|n| (4..=8).contains(n)));
    assert!(lengths.contains(&8));
    for batch in &batches {
        check_layout(batch, SpecialTokens::MODERN_BERT, 50368);
    }
}

#[test]
fn fill_gives_every_row_the_same_fraction() {
    let generator = InputGenerator::random(Lengths::Fill(0.3), 5, 30528).unwrap();
    let batch = &generator.batches(3, 10, 1).unwrap()[0];
    // round(0.3 * 10) = 3 real tokens per row of 10.
    assert_eq!(batch.lengths, [3, 3, 3]);
    assert_eq!((batch.real_tokens(), batch.padded_tokens()), (9, 30));
    check_layout(batch, SpecialTokens::BERT, 30528);
    // A tiny fraction still leaves the CLS token.
    let tiny = InputGenerator::random(Lengths::Fill(0.01), 5, 30528).unwrap();
    assert_eq!(tiny.batches(2, 10, 1).unwrap()[0].lengths, [1, 1]);
}

#[test]
fn file_lengths_are_used_in_order_and_cycled_across_batches() {
    let dir = temp_dir("file-lengths");
    let path = dir.join("lengths.txt");
    std::fs::write(&path, "5\n2\n40\n7\n1\n").unwrap();
    let generator = InputGenerator::random(
        Lengths::parse(&format!("file:{}", path.display())).unwrap(),
        0,
        100,
    )
    .unwrap();
    let batches = generator.batches(3, 8, 3).unwrap();
    let lengths: Vec<Vec<u32>> = batches.iter().map(|b| b.lengths.clone()).collect();
    // 40 is cut to the sequence length 8.
    assert_eq!(lengths, [vec![5, 2, 8], vec![7, 1, 5], vec![2, 8, 7]]);
    for batch in &batches {
        check_layout(batch, SpecialTokens::SMALL, 100);
    }
}

#[test]
fn special_ids_follow_the_vocabulary() {
    assert_eq!(SpecialTokens::for_vocab(50368), SpecialTokens::MODERN_BERT);
    assert_eq!(SpecialTokens::for_vocab(30522), SpecialTokens::BERT);
    assert_eq!(SpecialTokens::for_vocab(30528), SpecialTokens::BERT);
    assert_eq!(SpecialTokens::for_vocab(1000), SpecialTokens::SMALL);
    // ModernBERT's ordinary ids stop below its first special id.
    let generator = InputGenerator::random(Lengths::Full, 1, 50368).unwrap();
    let ids = rows(&generator.batches(4, 512, 4).unwrap()[3]);
    assert!(
        ids.iter()
            .flat_map(|r| &r[1..511])
            .all(|&id| (1000..50281).contains(&id))
    );
    assert!(InputGenerator::random(Lengths::Full, 1, 3).is_err());
}

#[test]
fn text_matches_python_tokenizers() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("texts_expected.json")).unwrap())
            .unwrap();
    let vocab = expected["vocab_size"].as_i64().unwrap();
    let pad = expected["pad_id"].as_i64().unwrap();
    let generator =
        InputGenerator::text(&data("texts.txt"), &data("tokenizer.json"), vocab).unwrap();
    assert!(generator.describe().starts_with("text:"));
    for seq in [8u32, 64] {
        let want: Vec<Vec<i64>> =
            serde_json::from_value(expected[seq.to_string()].clone()).unwrap();
        // Seven rows over five lines: lines are used in order, then cycled.
        let batches = generator.batches(7, seq, 1).unwrap();
        let got = rows(&batches[0]);
        for (row, ids) in got.iter().enumerate() {
            let line = &want[row % want.len()];
            assert_eq!(&ids[..line.len()], &line[..], "seq {seq}, row {row}");
            assert!(ids[line.len()..].iter().all(|&id| id == pad));
            assert_eq!(batches[0].lengths[row] as usize, line.len());
        }
    }
}

#[test]
fn text_errors_name_the_file() {
    let dir = temp_dir("text-errors");
    let empty = dir.join("empty.txt");
    std::fs::write(&empty, "\n  \n").unwrap();
    let not_json = dir.join("tokenizer.json");
    std::fs::write(&not_json, "{").unwrap();
    let no_pad = dir.join("no-pad.json");
    let tokenizer = std::fs::read_to_string(data("tokenizer.json")).unwrap();
    std::fs::write(&no_pad, tokenizer.replace("[PAD]", "[NOTPAD]")).unwrap();
    for (text, tokenizer, expected) in [
        (
            dir.join("missing.txt"),
            data("tokenizer.json"),
            "missing.txt",
        ),
        (empty.clone(), data("tokenizer.json"), "holds no text"),
        (data("texts.txt"), dir.join("absent.json"), "absent.json"),
        (
            data("texts.txt"),
            not_json.clone(),
            "not a usable HuggingFace tokenizer.json",
        ),
        (data("texts.txt"), no_pad.clone(), "no padding id"),
    ] {
        let message = InputGenerator::text(&text, &tokenizer, 120)
            .err()
            .unwrap_or_else(|| panic!("{expected}: accepted"))
            .to_string();
        assert!(message.contains(expected), "{expected}: {message}");
    }
    // A model whose vocabulary is smaller than the tokenizer's.
    let generator = InputGenerator::text(&data("texts.txt"), &data("tokenizer.json"), 20).unwrap();
    let message = generator.batches(2, 16, 1).unwrap_err().to_string();
    assert!(
        message.contains("outside the model's vocabulary 0..20"),
        "{message}"
    );
}

/// Issue 13 item 1: a `tokenizer.json` with its own padding (`Fixed` 16; `BatchLongest` to a
/// multiple of 16) and truncation (left at 12; at 6). Only our padding and truncation may apply:
/// every row equals what Python `tokenizers` gives with the tokenizer's padding off and truncation
/// at the sequence length, so the real-token counts (and `padding_fraction`) are the true ones.
#[test]
fn issue_13_a_tokenizer_that_pads_by_itself_is_padded_only_by_us() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("texts_expected_unpadded.json")).unwrap(),
    )
    .unwrap();
    for file in [
        "tokenizer_wordlevel_fixed16.json",
        "tokenizer_longest_multiple16.json",
    ] {
        let case = &expected[file];
        let pad = case["pad_id"].as_i64().unwrap();
        // The fixture does pad by itself: every line comes back 16 tokens long.
        assert!(
            case["own"]
                .as_array()
                .unwrap()
                .iter()
                .all(|row| row.as_array().unwrap().len() == 16)
        );
        let generator = InputGenerator::text(
            &data("texts.txt"),
            &data(file),
            case["vocab_size"].as_i64().unwrap(),
        )
        .unwrap();
        for seq in [8u32, 32] {
            let want: Vec<Vec<i64>> =
                serde_json::from_value(case[seq.to_string()].clone()).unwrap();
            let batches = generator.batches(want.len() as u32, seq, 1).unwrap();
            let batch = &batches[0];
            let lengths: Vec<u32> = want.iter().map(|r| r.len() as u32).collect();
            assert_eq!(batch.lengths, lengths, "{file}, seq {seq}");
            assert_eq!(batch.input_ids.size(), [want.len() as i64, i64::from(seq)]);
            for (row, (ids, mask)) in rows(batch).iter().zip(mask_rows(batch)).enumerate() {
                let line = &want[row];
                assert_eq!(
                    &ids[..line.len()],
                    &line[..],
                    "{file}, seq {seq}, row {row}"
                );
                assert!(ids[line.len()..].iter().all(|&id| id == pad));
                assert!(mask[..line.len()].iter().all(|&m| m == 1));
                assert!(mask[line.len()..].iter().all(|&m| m == 0));
            }
            let real: u64 = lengths.iter().map(|&n| u64::from(n)).sum();
            assert_eq!(batch.real_tokens(), real);
            assert_eq!(batch.padded_tokens(), want.len() as u64 * u64::from(seq));
            assert!(batch.real_tokens() <= batch.padded_tokens());
        }
    }
}
