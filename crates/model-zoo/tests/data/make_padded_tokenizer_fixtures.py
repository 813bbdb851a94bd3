"""Writes tokenizers that pad and truncate by themselves, for tests/it/inputs.rs (issue 13 item 1).

Many published `tokenizer.json` files carry a `padding` block (`Fixed` length, or `BatchLongest`
with `pad_to_multiple_of`) and a `truncation` block. The input generator must apply only its own
padding and truncation (right truncation at the sequence length, right padding to it), so the
truth each row is checked against is what HuggingFace `tokenizers` (Python) returns for the line
with the tokenizer's padding turned off (`no_padding()`) and truncation set to the sequence length
(`enable_truncation(max_length=seq)`, which also resets direction, strategy and stride).

* `tokenizer_wordlevel_fixed16.json`: a WordLevel tokenizer trained on `texts.txt`, `[CLS] $A [SEP]`,
  padding `Fixed(16)` with `[PAD]`, truncation at 12 tokens from the left.
* `tokenizer_longest_multiple16.json`: `tokenizer.json` (WordPiece) with padding `BatchLongest`,
  `pad_to_multiple_of` 16, pad id 0, and truncation at 6 tokens.
* `texts_expected_unpadded.json`: per file, the pad id, what the tokenizer gives with its own settings
  for each line (`own`, to show that it pads), and the rows at sequence lengths 8 and 32.

    python make_padded_tokenizer_fixtures.py   # needs `pip install tokenizers` (0.23.3 was used)
"""

import json
from pathlib import Path

from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers

HERE = Path(__file__).parent
SEQS = (8, 32)


def wordlevel_fixed16(lines: list[str]) -> Tokenizer:
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    tok.train_from_iterator(lines, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.enable_padding(length=16, pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")
    tok.enable_truncation(max_length=12, direction="left")
    return tok


def longest_multiple16() -> Tokenizer:
    tok = Tokenizer.from_file(str(HERE / "tokenizer.json"))
    tok.enable_padding(pad_id=0, pad_token="[PAD]", pad_to_multiple_of=16)
    tok.enable_truncation(max_length=6)
    return tok


def main() -> None:
    lines = [l for l in (HERE / "texts.txt").read_text().splitlines() if l.strip()]
    expected = {}
    for name, tok in [
        ("tokenizer_wordlevel_fixed16.json", wordlevel_fixed16(lines)),
        ("tokenizer_longest_multiple16.json", longest_multiple16()),
    ]:
        tok.save(str(HERE / name))
        tok = Tokenizer.from_file(str(HERE / name))
        case = {
            "vocab_size": tok.get_vocab_size(),
            "pad_id": tok.padding["pad_id"],
            "own": [tok.encode(l).ids for l in lines],
        }
        tok.no_padding()
        for seq in SEQS:
            tok.enable_truncation(max_length=seq)
            case[str(seq)] = [tok.encode(l).ids for l in lines]
        expected[name] = case
    (HERE / "texts_expected_unpadded.json").write_text(json.dumps(expected) + "\n")


if __name__ == "__main__":
    main()
