"""Writes weight files saved with `safetensors.torch.save_model`, for tests/it/checkpoint.rs
(issue 13 item 2).

`save_model` stores one name of each set of tensors that share memory (the first in sorted order)
and records each dropped name in the file's `__metadata__` as `{dropped: kept}`. For ModernBERT MLM
it keeps `decoder.weight` and drops `model.embeddings.tok_embeddings.weight`; for BERT MLM it keeps
`bert.embeddings.word_embeddings.weight` and `cls.predictions.bias` and drops
`cls.predictions.decoder.weight` / `.bias`.

For each case NAME in (`modernbert_mlm`, `bert_mlm`) the transformers model is rebuilt from
`NAME.json` with the weights of `NAME.safetensors` (as check_fixtures.replay does), checked to
reproduce `NAME.io.safetensors` bit for bit, and saved with `save_model` as
`NAME.save_model.safetensors`; so the stored logits stay the reference for the new file.

    PYTHONPATH=$HOME/.cache/bert-latency/libtorch-2.11.0/site-packages \\
        /tmp/fixenv/bin/python make_save_model_fixtures.py   # safetensors 0.8.0, transformers 5.24.0
"""

import os

import torch
from safetensors import safe_open
from safetensors.torch import save_model

import check_fixtures as cf


def main():
    for name in ("modernbert_mlm", "bert_mlm"):
        meta, weights, io = cf.load_case(name)
        model = cf.hf_model(meta)
        missing, unexpected = model.load_state_dict(cf.to_hf_names(model, weights), strict=False)
        assert not unexpected, unexpected
        model.tie_weights()
        with torch.no_grad():
            assert torch.equal(cf.hf_forward(model, meta, io), io["logits"]), name
        path = os.path.join(cf.HERE, f"{name}.save_model.safetensors")
        save_model(model, path)
        with safe_open(path, "pt") as f:
            print(name, "dropped -> kept:", f.metadata())


if __name__ == "__main__":
    main()
