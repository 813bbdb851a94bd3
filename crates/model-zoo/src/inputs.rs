//! Model inputs: right-padded batches of seeded random token ids whose row lengths follow a
//! distribution ([`Lengths`]), or of real text tokenized with a HuggingFace `tokenizer.json`.
//!
//! Every batch says how many of its positions are real tokens ([`Batch::real_tokens`]), so that
//! reports can show real beside padded tokens per second: models that drop padding run faster on
//! ragged batches, and a full-length benchmark hides that.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tch::{Device, Tensor};

use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// How long the rows of a random batch are (real tokens, CLS and SEP included); the rest of the
/// sequence is padding.
#[derive(Debug, Clone, PartialEq)]
pub enum Lengths {
    /// Every row fills the sequence (the Python tool's inputs, and the default).
    Full,
    /// Uniform integer lengths in `min..=max`, cut to the sequence length.
    Uniform {
        /// Shortest row.
        min: u32,
        /// Longest row.
        max: u32,
    },
    /// Every row holds this fraction (0 < ratio ≤ 1) of the sequence, rounded, at least 1 token.
    Fill(f64),
    /// Lengths read from a file, one per line, used in order and cycled; cut to the sequence
    /// length.
    File {
        /// The file.
        path: PathBuf,
        /// Its lengths, in order.
        lengths: Vec<u32>,
    },
}

impl Lengths {
    /// Parses `full`, `uniform:MIN..MAX`, `fill:RATIO` or `file:PATH` (reading the file).
    ///
    /// # Errors
    /// [`Error::Lengths`] naming what is wrong with `spec`, or [`Error::InputFile`] for a lengths
    /// file that cannot be read or holds something other than positive integers.
    pub fn parse(spec: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Lengths {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
        match (kind, spec.contains(':')) {
            ("full", false) => Ok(Self::Full),
            ("uniform", true) => {
                let usage = "expected uniform:MIN..MAX with whole numbers 1 <= MIN <= MAX";
                let (min, max) = arg.split_once("..").ok_or_else(|| bad(usage))?;
                let (min, max) = match (min.trim().parse::<u32>(), max.trim().parse::<u32>()) {
                    (Ok(min), Ok(max)) => (min, max),
                    _ => return Err(bad(usage)),
                };
                if min == 0 || min > max {
                    return Err(bad(usage));
                }
                Ok(Self::Uniform { min, max })
            }
            ("fill", true) => match arg.trim().parse::<f64>() {
                Ok(ratio) if ratio > 0.0 && ratio <= 1.0 => Ok(Self::Fill(ratio)),
                _ => Err(bad(
                    "expected fill:RATIO with 0 < RATIO <= 1, the fraction of real tokens per row",
                )),
            },
            ("file", true) if !arg.is_empty() => {
                let path = PathBuf::from(arg);
                let lengths = read_lengths(&path)?;
                Ok(Self::File { path, lengths })
            }
            ("file", true) => Err(bad("expected file:PATH, a file with one length per line")),
            _ => Err(bad(
                "expected full, uniform:MIN..MAX, fill:RATIO or file:PATH",
            )),
        }
    }

    /// The longest row this distribution can ask for, where it is fixed in tokens (`uniform`,
    /// `file`); longer rows are cut to the sequence length.
    pub fn longest(&self) -> Option<u32> {
        match self {
            Self::Full | Self::Fill(_) => None,
            Self::Uniform { max, .. } => Some(*max),
            Self::File { lengths, .. } => lengths.iter().copied().max(),
        }
    }

    /// The length of global row `row` (counted across batches) of a `seq`-token batch.
    fn length(&self, row: usize, seq: u32, rng: &mut SplitMix64) -> u32 {
        let length = match self {
            Self::Full => seq,
            Self::Uniform { min, max } => rng.below(i64::from(*min), i64::from(*max) + 1) as u32,
            Self::Fill(ratio) => (ratio * f64::from(seq)).round() as u32,
            Self::File { lengths, .. } => lengths[row % lengths.len()],
        };
        length.clamp(1, seq)
    }
}

impl FromStr for Lengths {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        Self::parse(spec)
    }
}

impl fmt::Display for Lengths {
    /// The spec it was parsed from, e.g. `uniform:64..512`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("full"),
            Self::Uniform { min, max } => write!(f, "uniform:{min}..{max}"),
            Self::Fill(ratio) => write!(f, "fill:{ratio}"),
            Self::File { path, .. } => write!(f, "file:{}", path.display()),
        }
    }
}

fn read_lengths(path: &Path) -> Result<Vec<u32>> {
    let file_error = |message: String| Error::InputFile {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let mut lengths = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.parse::<u32>() {
            Ok(n) if n > 0 => lengths.push(n),
            _ => {
                return Err(file_error(format!(
                    "line {}: '{line}' is not a length (a whole number >= 1)",
                    index + 1
                )));
            }
        }
    }
    if lengths.is_empty() {
        return Err(file_error("holds no lengths (one per line)".to_owned()));
    }
    Ok(lengths)
}

/// The CLS, SEP and PAD ids random rows use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialTokens {
    /// First token of every row.
    pub cls: i64,
    /// Last real token of every row longer than one token.
    pub sep: i64,
    /// Every padding position.
    pub pad: i64,
}

impl SpecialTokens {
    /// `bert-base-uncased` (BERT, MosaicBERT, FlexBERT with a BERT vocabulary).
    pub const BERT: Self = Self {
        cls: 101,
        sep: 102,
        pad: 0,
    };
    /// The ModernBERT tokenizer (ModernBERT, FlexBERT with its 50368-token vocabulary).
    pub const MODERN_BERT: Self = Self {
        cls: 50281,
        sep: 50282,
        pad: 50283,
    };
    /// Small test vocabularies: PAD 0, CLS 1, SEP 2.
    pub const SMALL: Self = Self {
        cls: 1,
        sep: 2,
        pad: 0,
    };

    /// The ids of the tokenizer a model of this vocabulary size is trained with: ModernBERT's
    /// when it holds them (more than 50283 ids), BERT's when it holds BERT's 30522, else
    /// [`SpecialTokens::SMALL`].
    pub fn for_vocab(vocab: i64) -> Self {
        if vocab > Self::MODERN_BERT.pad {
            Self::MODERN_BERT
        } else if vocab >= 30522 {
            Self::BERT
        } else {
            Self::SMALL
        }
    }
}

/// One right-padded batch, on the CPU until moved.
#[derive(Debug)]
pub struct Batch {
    /// Token ids, int64 `[B, S]`.
    pub input_ids: Tensor,
    /// 1 at real tokens, 0 at padding, int64 `[B, S]`.
    pub attention_mask: Tensor,
    /// Real tokens per row.
    pub lengths: Vec<u32>,
}

impl Batch {
    /// Builds a batch from rows of real token ids, padding each to `seq` with `pad`.
    fn from_rows(rows: &[Vec<i64>], seq: u32, pad: i64) -> Self {
        let seq = seq as usize;
        let mut ids = Vec::with_capacity(rows.len() * seq);
        let mut mask = Vec::with_capacity(rows.len() * seq);
        for row in rows {
            ids.extend_from_slice(row);
            ids.resize(ids.len() + seq - row.len(), pad);
            mask.extend(std::iter::repeat_n(1i64, row.len()));
            mask.resize(mask.len() + seq - row.len(), 0);
        }
        let shape = [rows.len() as i64, seq as i64];
        Self {
            input_ids: Tensor::from_slice(&ids).view(shape),
            attention_mask: Tensor::from_slice(&mask).view(shape),
            lengths: rows.iter().map(|r| r.len() as u32).collect(),
        }
    }

    /// Real (non-padding) tokens in the batch.
    pub fn real_tokens(&self) -> u64 {
        self.lengths.iter().map(|&n| u64::from(n)).sum()
    }

    /// All positions, padding included (`B × S`).
    pub fn padded_tokens(&self) -> u64 {
        self.input_ids.size().iter().product::<i64>().max(0) as u64
    }

    /// The same batch on `device`.
    pub fn to_device(&self, device: Device) -> Self {
        Self {
            input_ids: self.input_ids.to_device(device),
            attention_mask: self.attention_mask.to_device(device),
            lengths: self.lengths.clone(),
        }
    }
}

/// Where token ids come from.
enum Source {
    Random {
        lengths: Lengths,
        seed: u64,
        special: SpecialTokens,
        /// Ids of ordinary tokens: `low..high`.
        body: (i64, i64),
    },
    Text {
        path: PathBuf,
        lines: Vec<String>,
        tokenizer: Box<tokenizers::Tokenizer>,
        pad: i64,
    },
}

/// Makes the batches a run measures.
pub struct InputGenerator {
    source: Source,
    vocab: i64,
}

impl InputGenerator {
    /// Seeded random ids for a model with `vocab` ids: CLS first, SEP last, ordinary ids (from
    /// `min(vocab / 10, 1000)` up to the first special id above it) between, PAD after.
    ///
    /// # Errors
    /// [`Error::Inputs`] for a vocabulary too small to hold the special ids and ordinary ones.
    pub fn random(lengths: Lengths, seed: u64, vocab: i64) -> Result<Self> {
        let special = SpecialTokens::for_vocab(vocab);
        let low = (vocab / 10).clamp(3, 1000);
        let high = [special.cls, special.sep, special.pad]
            .into_iter()
            .filter(|&id| id >= low)
            .fold(vocab, i64::min);
        if high <= low {
            return Err(Error::Inputs(format!(
                "a vocabulary of {vocab} ids is too small for random inputs (at least 4 needed)"
            )));
        }
        Ok(Self {
            source: Source::Random {
                lengths,
                seed,
                special,
                body: (low, high),
            },
            vocab,
        })
    }

    /// Real text: each non-blank line of `text_file` is one sample, tokenized with the
    /// HuggingFace tokenizer in `tokenizer_json` (its special tokens; right truncation at the
    /// sequence length), padded on the right with its padding id or `[PAD]`/`<pad>` id. Lines are
    /// used in order and cycled. The file's own `padding` and `truncation` settings are ignored:
    /// rows are exactly what the tokenizer gives with its padding off, so real-token counts are
    /// true.
    ///
    /// # Errors
    /// [`Error::InputFile`] when either file cannot be read or parsed, the text file has no
    /// non-blank line, or the tokenizer has no pad token.
    pub fn text(text_file: &Path, tokenizer_json: &Path, vocab: i64) -> Result<Self> {
        let unusable = |e: &dyn fmt::Display| Error::InputFile {
            path: tokenizer_json.to_owned(),
            message: format!("not a usable HuggingFace tokenizer.json: {e}"),
        };
        let json = std::fs::read_to_string(tokenizer_json).map_err(|e| unusable(&e))?;
        // A JSON syntax error inside some values (e.g. `decoder`) makes tokenizers panic
        // ("Helper") instead of returning its error: check the syntax first.
        serde_json::from_str::<serde::de::IgnoredAny>(&json).map_err(|e| unusable(&e))?;
        let tokenizer = json
            .parse::<tokenizers::Tokenizer>()
            .map_err(|e| unusable(&e))?;
        let undefined = tokenizer
            .get_post_processor()
            .map(undefined_template_tokens)
            .unwrap_or_default();
        if !undefined.is_empty() {
            return Err(Error::InputFile {
                path: tokenizer_json.to_owned(),
                message: format!(
                    "not a usable HuggingFace tokenizer.json: its post_processor template uses \
                     special token(s) {} missing from its special_tokens",
                    undefined.join(", ")
                ),
            });
        }
        let pad = tokenizer
            .get_padding()
            .map(|p| i64::from(p.pad_id))
            .or_else(|| {
                ["[PAD]", "<pad>", "<|padding|>"]
                    .iter()
                    .find_map(|t| tokenizer.token_to_id(t))
                    .map(i64::from)
            })
            .ok_or_else(|| Error::InputFile {
                path: tokenizer_json.to_owned(),
                message: "the tokenizer has no padding id and no [PAD] or <pad> token".to_owned(),
            })?;
        let text = std::fs::read_to_string(text_file).map_err(|e| Error::InputFile {
            path: text_file.to_owned(),
            message: e.to_string(),
        })?;
        let lines: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        if lines.is_empty() {
            return Err(Error::InputFile {
                path: text_file.to_owned(),
                message: "holds no text (one sample per non-blank line)".to_owned(),
            });
        }
        Ok(Self {
            source: Source::Text {
                path: text_file.to_owned(),
                lines,
                tokenizer: Box::new(tokenizer),
                pad,
            },
            vocab,
        })
    }

    /// Where the ids come from, for records and notices: the length spec, or `text:PATH`.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Random { lengths, .. } => lengths.to_string(),
            Source::Text { path, .. } => format!("text:{}", path.display()),
        }
    }

    /// The longest row the source can ask for where that is fixed in tokens (see
    /// [`Lengths::longest`]); text rows depend on the tokenizer.
    pub fn longest(&self) -> Option<u32> {
        match &self.source {
            Source::Random { lengths, .. } => lengths.longest(),
            Source::Text { .. } => None,
        }
    }

    /// `count` batches of `batch` rows padded to `seq` tokens, on the CPU. The same arguments
    /// give the same batches; rows take lengths (or lines) in order across batches.
    ///
    /// # Errors
    /// [`Error::Inputs`] when the tokenizer fails or yields ids outside the model's vocabulary.
    pub fn batches(&self, batch: u32, seq: u32, count: usize) -> Result<Vec<Batch>> {
        let rows_per_batch = batch as usize;
        let total = rows_per_batch * count;
        let rows: Vec<Vec<i64>> = match &self.source {
            Source::Random {
                lengths,
                seed,
                special,
                body,
            } => {
                let mut rng = SplitMix64::new(*seed);
                (0..total)
                    .map(|row| {
                        let length = lengths.length(row, seq, &mut rng) as usize;
                        let mut ids: Vec<i64> =
                            (0..length).map(|_| rng.below(body.0, body.1)).collect();
                        ids[0] = special.cls;
                        if length > 1 {
                            ids[length - 1] = special.sep;
                        }
                        ids
                    })
                    .collect()
            }
            Source::Text {
                lines, tokenizer, ..
            } => self.tokenize(tokenizer, lines, seq, total)?,
        };
        let pad = match &self.source {
            Source::Random { special, .. } => special.pad,
            Source::Text { pad, .. } => *pad,
        };
        Ok(rows
            .chunks(rows_per_batch.max(1))
            .map(|chunk| Batch::from_rows(chunk, seq, pad))
            .collect())
    }

    fn tokenize(
        &self,
        tokenizer: &tokenizers::Tokenizer,
        lines: &[String],
        seq: u32,
        total: usize,
    ) -> Result<Vec<Vec<i64>>> {
        // The tokenizer's own padding and truncation (many published tokenizer.json files carry
        // a `Fixed` length or `BatchLongest` padding) would make rows longer than `seq` or count
        // its pads as real tokens: ours are the only ones applied.
        let mut tokenizer = tokenizer.clone();
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: seq as usize,
                ..tokenizers::TruncationParams::default()
            }))
            .map_err(|e| Error::Inputs(format!("tokenizer truncation: {e}")))?;
        let used = total.min(lines.len());
        if used == 0 {
            return Ok(Vec::new());
        }
        let mut encoded = Vec::with_capacity(used);
        for (index, line) in lines[..used].iter().enumerate() {
            let encoding = tokenizer
                .encode(line.as_str(), true)
                .map_err(|e| Error::Inputs(format!("tokenizing line {}: {e}", index + 1)))?;
            let ids: Vec<i64> = encoding.get_ids().iter().map(|&id| i64::from(id)).collect();
            if ids.len() > seq as usize {
                return Err(Error::Inputs(format!(
                    "text line {}: the tokenizer gives {} tokens after truncation at {seq}",
                    index + 1,
                    ids.len()
                )));
            }
            if ids.is_empty() {
                return Err(Error::Inputs(format!(
                    "text line {} gives no tokens",
                    index + 1
                )));
            }
            if let Some(&id) = ids.iter().find(|&&id| id >= self.vocab) {
                return Err(Error::Inputs(format!(
                    "the tokenizer gives id {id}, outside the model's vocabulary 0..{}: is it the \
                     model's tokenizer?",
                    self.vocab
                )));
            }
            encoded.push(ids);
        }
        Ok((0..total).map(|row| encoded[row % used].clone()).collect())
    }
}

/// The special tokens a `TemplateProcessing` post-processor (alone or in a `Sequence`) puts in
/// single-sequence encodings but does not define in its `special_tokens`. tokenizers reads such a
/// file without complaint (its builder's check is skipped on deserialization) and then panics
/// ("no entry found for key") on the first encode.
fn undefined_template_tokens(
    processor: &tokenizers::processors::PostProcessorWrapper,
) -> Vec<String> {
    use tokenizers::processors::PostProcessorWrapper;
    match processor {
        PostProcessorWrapper::Template(template) => {
            let defined = &template.get_special_tokens().0;
            // `Template`'s pieces are private; its serde form is public: `[{"SpecialToken":
            // {"id": ..}}, {"Sequence": {..}}, ..]`.
            let pieces = serde_json::to_value(&template.single).unwrap_or_default();
            pieces
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|piece| piece.get("SpecialToken")?.get("id")?.as_str())
                .filter(|id| !defined.contains_key(*id))
                .map(str::to_owned)
                .collect()
        }
        PostProcessorWrapper::Sequence(sequence) => sequence
            .as_ref()
            .iter()
            .flat_map(undefined_template_tokens)
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `cargo fuzz run tokenizer_json` (fuzz/): a JSON syntax error inside the
    /// `decoder` value made tokenizers panic ("Helper") while reading the file; it is now the
    /// usual error naming the file, line and column.
    #[test]
    fn a_syntax_error_inside_the_decoder_is_an_error_not_a_panic() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let good = std::fs::read_to_string(data.join("tokenizer.json")).unwrap();
        assert!(good.contains("\"decoder\": null"));
        let dir = std::env::temp_dir().join(format!("model-zoo-decoder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("tokenizer.json");
        std::fs::write(
            &bad,
            good.replace("\"decoder\": null", "\"decoder\": \u{2}null"),
        )
        .unwrap();

        let message = InputGenerator::text(&data.join("texts.txt"), &bad, 120)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            message.contains("not a usable HuggingFace tokenizer.json: expected value at line"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Found by `cargo fuzz run tokenizer_json` (fuzz/): a template naming a special token that
    /// its `special_tokens` map lacks made tokenizers panic in `batches`; it is now refused when
    /// the file is read.
    #[test]
    fn a_template_with_an_undefined_special_token_is_refused_not_a_panic() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let good = std::fs::read_to_string(data.join("tokenizer.json")).unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&good).unwrap();
        let tokens = json["post_processor"]["special_tokens"]
            .as_object_mut()
            .unwrap();
        let cls = tokens.remove("[CLS]").unwrap();
        tokens.insert("[CLSlstrip]".to_owned(), cls);
        let dir = std::env::temp_dir().join(format!("model-zoo-template-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("tokenizer.json");
        std::fs::write(&bad, json.to_string()).unwrap();
        let texts = data.join("texts.txt");

        let message = InputGenerator::text(&texts, &bad, 120)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            message.contains("special token(s) [CLS] missing from its special_tokens"),
            "{message}"
        );
        // The fixture itself still reads and encodes.
        let generator = InputGenerator::text(&texts, &data.join("tokenizer.json"), 120).unwrap();
        assert_eq!(generator.batches(2, 16, 1).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
