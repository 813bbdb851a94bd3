"""Makes the ONNX parity fixtures: tiny BERT and ModernBERT models exported with
scripts/export_onnx.py, and transformers' eager outputs for them at two shapes.

Run by hand from the repository root (torch 2.11.0 as bootstrapped, transformers 5.24.0, onnx,
onnxscript; see scripts/export_onnx.py), not by CI:
    PYTHONPATH=<torch site-packages>:<transformers>:<onnx packages> \
        python3 crates/model-zoo/tests/data/onnx/make_onnx_fixtures.py

Writes, for each case, `<case>.onnx` and `<case>.io.safetensors` with `input_ids_K`,
`attention_mask_K` (int64) and `output_K` (float32) for K = 0 (2 x 16, full rows) and 1 (3 x 40,
rows of 40, 23 and 7 real tokens).
"""
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "..", "scripts"))
import export_onnx  # noqa: E402

CASES = {
    "bert_cls": ({"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
                  "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 128,
                  "max_position_embeddings": 64}, "classification", "dynamo"),
    "modernbert_cls": ({"model_type": "modernbert", "hidden_size": 32, "num_hidden_layers": 3,
                        "num_attention_heads": 4, "intermediate_size": 48, "vocab_size": 128,
                        "max_position_embeddings": 64, "local_attention": 8,
                        "global_attn_every_n_layers": 3, "pad_token_id": 0,
                        "classifier_pooling": "mean"}, "classification", "dynamo"),
    "bert_embed_legacy": ({"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
                           "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 128,
                           "max_position_embeddings": 64}, "embedding", "legacy"),
}


def batches(vocab):
    g = torch.Generator().manual_seed(7)
    ids0 = torch.randint(1, vocab, (2, 16), generator=g)
    mask0 = torch.ones_like(ids0)
    ids1 = torch.randint(1, vocab, (3, 40), generator=g)
    mask1 = torch.zeros_like(ids1)
    for row, n in enumerate([40, 23, 7]):
        mask1[row, :n] = 1
    ids1 = ids1 * mask1  # pads are token 0
    return [(ids0, mask0), (ids1, mask1)]


def main():
    for name, (config, task, exporter) in CASES.items():
        import json
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config, f)
        args = export_onnx.parse_args(["--config-json", f.name, "--task", task, "--out",
                                       os.path.join(HERE, f"{name}.onnx"), "--seed", "3"])
        model = export_onnx.load_model(args)
        wrapped = export_onnx.Encoder(model, task)
        path = os.path.join(HERE, f"{name}.onnx")
        export_onnx.export(model, task, path, exporter)
        export_onnx.add_metadata(path, {"num_parameters": sum(p.numel() for p in model.parameters())})
        tensors = {}
        for k, (ids, mask) in enumerate(batches(config["vocab_size"])):
            with torch.no_grad():
                out = wrapped(ids, mask)
            tensors[f"input_ids_{k}"] = ids.contiguous()
            tensors[f"attention_mask_{k}"] = mask.contiguous()
            tensors[f"output_{k}"] = out.float().contiguous()
        save_file(tensors, os.path.join(HERE, f"{name}.io.safetensors"))
        print(name, os.path.getsize(path), "bytes,", sum(p.numel() for p in model.parameters()),
              "parameters")


if __name__ == "__main__":
    main()
