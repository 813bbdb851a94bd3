#!/usr/bin/env python3
"""Export a transformers BERT or ModernBERT encoder to ONNX for `model_type: onnx`.

The model comes from a local folder (config.json and weights, as save_pretrained writes them) or,
with random weights, from a config.json alone; nothing is downloaded. The ONNX graph takes
`input_ids` and `attention_mask` (int64 [batch, sequence], both dynamic) and returns one output:
`logits` (classification [B, num_labels], mlm [B, S, V]) or `last_hidden_state` (embedding
[B, S, H]), float32. The parameter count is stored in the model's metadata (`num_parameters`).

Needs: Python 3.10+, torch (the one `cargo xtask bootstrap` installs works:
~/.cache/bert-latency/libtorch-2.11.0/site-packages), transformers 5.x, and for the exporters the
PyPI packages onnx and protobuf (`--exporter legacy`), plus onnxscript, onnx_ir and ml_dtypes
(`--exporter dynamo`, the default); `--optimize` also needs onnxruntime (bootstrap installs it
under ~/.cache/bert-latency/onnxruntime-*/site-packages) and numpy.

Example:
    python3 scripts/export_onnx.py --model-dir ./bert-base --task classification --out bert.onnx
    latency-analysis --config-file cfg.yaml   # entry: model_type: onnx,
                                              #        pretrained_checkpoint: bert.onnx
"""

import argparse
import json
import os
import sys
import time


def fail(message):
    print(f"export_onnx.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model-dir", help="folder with config.json and model weights")
    src.add_argument("--config-json", help="config.json for a model with random weights")
    p.add_argument("--task", required=True, choices=["classification", "mlm", "embedding"])
    p.add_argument("--out", required=True, help="the .onnx file to write")
    p.add_argument("--num-labels", type=int, default=2, help="classification labels (random weights)")
    p.add_argument("--seed", type=int, default=0, help="seed of random weights")
    p.add_argument("--exporter", choices=["dynamo", "legacy"], default="dynamo",
                   help="torch.onnx.export's torch.export-based exporter, or the TorchScript one")
    p.add_argument("--opset", type=int, default=18)
    p.add_argument("--optimize", action="store_true",
                   help="also save ONNX Runtime's offline-optimised graph (extended level) in --out")
    return p.parse_args(argv)


def load_model(args):
    """The transformers model for the task, in eval mode, fp32, on the CPU."""
    import torch
    from transformers import (AutoConfig, AutoModel, AutoModelForMaskedLM,
                              AutoModelForSequenceClassification)
    classes = {"classification": AutoModelForSequenceClassification, "mlm": AutoModelForMaskedLM,
               "embedding": AutoModel}
    cls = classes[args.task]
    if args.model_dir:
        if not os.path.isfile(os.path.join(args.model_dir, "config.json")):
            fail(f"{args.model_dir} has no config.json")
        model = cls.from_pretrained(args.model_dir, attn_implementation="eager")
    else:
        if not os.path.isfile(args.config_json):
            fail(f"{args.config_json} does not exist")
        config = AutoConfig.for_model(**json.load(open(args.config_json)))
        if args.task == "classification":
            config.num_labels = args.num_labels
        config._attn_implementation = "eager"
        torch.manual_seed(args.seed)
        model = cls.from_config(config)
    if model.config.model_type not in ("bert", "modernbert"):
        fail(f"model_type {model.config.model_type!r}: this script exports bert and modernbert")
    return model.eval().float()


class Encoder:
    """Wraps the model so that the graph has one named output."""

    def __new__(cls, model, task):
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.model = model

            def forward(self, input_ids, attention_mask):
                out = self.model(input_ids=input_ids, attention_mask=attention_mask)
                return out.last_hidden_state if task == "embedding" else out.logits

        return Wrapped().eval()


def export(model, task, out, exporter="dynamo", opset=18):
    """Exports `model` to `out`; returns the output name."""
    import torch
    wrapped = Encoder(model, task)
    output = "last_hidden_state" if task == "embedding" else "logits"
    ids = torch.randint(0, model.config.vocab_size, (2, 16))
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    with torch.no_grad():
        if exporter == "dynamo":
            batch, seq = torch.export.Dim("batch", max=4096), torch.export.Dim("sequence", max=8192)
            torch.onnx.export(wrapped, (ids, mask), out, input_names=["input_ids", "attention_mask"],
                              output_names=[output], opset_version=opset, dynamo=True,
                              dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
                              external_data=False)
        else:
            axes = {0: "batch", 1: "sequence"}
            torch.onnx.export(wrapped, (ids, mask), out, input_names=["input_ids", "attention_mask"],
                              output_names=[output], opset_version=opset, dynamo=False,
                              dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                            output: axes if task != "classification" else {0: "batch"}})
    return output


def add_metadata(path, entries):
    """Writes `entries` into the ONNX model's metadata_props."""
    import onnx
    model = onnx.load(path)
    for key, value in entries.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=str(value)))
    onnx.save(model, path)


def optimize(path):
    """Replaces `path` with ONNX Runtime's offline-optimised graph (extended level, CPU)."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    tmp = path + ".optimized"
    options.optimized_model_filepath = tmp
    ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        fail("torch is not importable: put the bootstrapped torch on PYTHONPATH "
             "(~/.cache/bert-latency/libtorch-2.11.0/site-packages)")
    model = load_model(args)
    start = time.time()
    output = export(model, args.task, args.out, args.exporter, args.opset)
    params = sum(p.numel() for p in model.parameters())
    metadata = {"num_parameters": params, "task": args.task,
                "model_type": model.config.model_type, "torch": torch.__version__,
                "exporter": args.exporter}
    add_metadata(args.out, metadata)
    if args.optimize:
        optimize(args.out)
    print(json.dumps({"onnx": os.path.abspath(args.out), "inputs": ["input_ids", "attention_mask"],
                      "output": output, "dtype": "float32", "dynamic": ["batch", "sequence"],
                      "export_s": round(time.time() - start, 1), **metadata}, indent=1))


if __name__ == "__main__":
    main()
