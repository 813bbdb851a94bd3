"""Writes the tokenizer fixtures of the input-generator tests (tests/it/inputs.rs).

A tiny BERT-style WordPiece tokenizer (lower-casing normaliser, `[CLS] $A [SEP]` post-processor)
is trained on `texts.txt`; `texts_expected.json` holds what HuggingFace `tokenizers` (Python)
returns for every line of that file, truncated at 8 and at 64 tokens, the independent truth the
Rust tokenizer path is checked against.

    python make_tokenizer_fixture.py   # needs `pip install tokenizers` (0.23.3 was used)
"""

import json
from pathlib import Path

from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

HERE = Path(__file__).parent
LINES = [
    "The quick brown fox jumps over the lazy dog.",
    "Latency matters when an encoder serves search queries in production.",
    "",
    "ModernBERT, MosaicBERT and BERT are compared on the same inputs!",
    "Short one.",
    "Padding tokens are not real tokens; unpadded attention skips them entirely, "
    "which is why ragged batches run faster on models that remove padding before the encoder.",
]


def main() -> None:
    (HERE / "texts.txt").write_text("\n".join(LINES) + "\n")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=120, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    tok.train_from_iterator([l for l in LINES if l], trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    tok.save(str(HERE / "tokenizer.json"))
    expected = {"vocab_size": tok.get_vocab_size(), "pad_id": tok.token_to_id("[PAD]")}
    for max_length in (8, 64):
        tok.enable_truncation(max_length=max_length)
        expected[str(max_length)] = [tok.encode(l).ids for l in LINES if l.strip()]
    (HERE / "texts_expected.json").write_text(json.dumps(expected) + "\n")


if __name__ == "__main__":
    main()
