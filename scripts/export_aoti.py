#!/usr/bin/env python3
"""Export a transformers BERT or ModernBERT encoder as an AOTInductor package for `model_type: aoti`.

The model comes from a local folder (config.json and weights, as save_pretrained writes them) or,
with random weights, from a config.json alone; nothing is downloaded. It is exported with
torch.export (batch and sequence dimensions dynamic within --max-batch and --max-seq; the sequence
at least 2) and compiled ahead of time by torch._inductor.aoti_compile_and_package into one `.pt2`
file holding a shared library for this machine, this torch and one device. The package's forward
takes `input_ids` and `attention_mask` (int64 [batch, sequence]) and returns one tensor: `logits`
(classification [B, num_labels], mlm [B, S, V]) or `last_hidden_state` (embedding [B, S, H]), in
the exported dtype.

The package's metadata (AOTInductor's metadata dict, read by model-zoo when it loads the package)
holds, under keys starting `bert_latency.`: input_names, output_name, min_batch, max_batch,
min_seq, max_seq, dtype, device, threads, torch_version, task, model_type, vocab_size,
num_parameters. model-zoo refuses shapes outside the bounds, token ids beyond the vocabulary,
another --dtype, another device and another torch release.

On the CPU, Inductor fixes each kernel's thread count at compile time unless told otherwise; this
script compiles with `--threads dynamic` by default (kernels use the OpenMP thread count of the
run, which latency-analysis --threads sets), or fixes it with `--threads N`.

Needs: Python 3.10+, the torch that the measuring binary links (the one `cargo xtask bootstrap`
installs: ~/.cache/bert-latency/libtorch-2.11.0/site-packages), transformers 5.x (`cargo xtask
bench-transformers` installs 5.24.0 under ~/.cache/bert-latency/bench-packages), and a C++17
compiler on PATH (g++ or clang++, or $CXX) for Inductor's generated code; `--device cuda` also
needs a CUDA GPU and the triton that comes with torch. Compiling a tiny model takes 20 to 35 s on
two cores; Inductor's build files go to $TMPDIR/torchinductor_$USER (TORCHINDUCTOR_CACHE_DIR) and
need a few times the weights' size on disk.

Example:
    PYTHONPATH=~/.cache/bert-latency/bench-packages:~/.cache/bert-latency/libtorch-2.11.0/site-packages \\
        python3 scripts/export_aoti.py --model-dir ./bert-base --task classification \\
        --max-batch 8 --max-seq 512 --out bert.pt2
    # config entry: model_type: aoti, pretrained_checkpoint: bert.pt2
"""

import argparse
import json
import os
import shutil
import sys
import time

PREFIX = "bert_latency."
DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
MIN_SEQ = 2


def fail(message):
    print(f"export_aoti.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else ""


def show(error, limit=60):
    """Prints the last `limit` lines of an exception's message (e.g. the compiler's output)."""
    lines = str(error).strip().splitlines()
    if len(lines) > 1:
        print("\n".join(lines[-limit:]), file=sys.stderr)


def parse_shapes(text):
    """`2x16,3x40` -> [(2, 16), (3, 40)]."""
    shapes = []
    for part in text.split(","):
        try:
            batch, seq = (int(n) for n in part.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not BATCHxSEQ (e.g. 2x16)") from None
        shapes.append((batch, seq))
    return shapes


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model-dir", help="folder with config.json and model weights")
    src.add_argument("--config-json", help="config.json for a model with random weights")
    p.add_argument("--task", required=True, choices=["classification", "mlm", "embedding"])
    p.add_argument("--out", required=True, help="the .pt2 package to write")
    p.add_argument("--max-batch", type=int, default=64, help="largest batch the package accepts")
    p.add_argument("--max-seq", type=int, default=None,
                   help="longest sequence the package accepts (default: the model's "
                        "max_position_embeddings, at most 8192)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="the device the package runs on (it runs on no other)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="fp32",
                   help="the float type the package computes in (run it with the same --dtype)")
    p.add_argument("--num-labels", type=int, default=2, help="classification labels (random weights)")
    p.add_argument("--seed", type=int, default=0, help="seed of random weights")
    p.add_argument("--threads", default="dynamic",
                   help="CPU: `dynamic` (default) compiles kernels that use as many threads as the "
                        "run has (--threads of latency-analysis); a number N fixes them at N, "
                        "Inductor's own default being the exporting process's thread count")
    p.add_argument("--attn-implementation", choices=["sdpa", "eager"], default="sdpa",
                   help="transformers' attention implementation to export")
    p.add_argument("--reference", metavar="FILE.safetensors",
                   help="also write seeded inputs and transformers' eager outputs at "
                        "--reference-shapes into this file (input_ids_K, attention_mask_K, "
                        "output_K), for parity tests")
    p.add_argument("--reference-shapes", type=parse_shapes, default=[(2, 16), (3, 40)],
                   metavar="BxS,...", help="shapes of --reference (default 2x16,3x40)")
    args = p.parse_args(argv)
    if not args.out.endswith(".pt2"):
        fail(f"--out {args.out}: an AOTInductor package must be named *.pt2")
    if args.max_batch < 1:
        fail(f"--max-batch {args.max_batch}: must be at least 1")
    if args.threads != "dynamic" and not (args.threads.isdigit() and int(args.threads) >= 1):
        fail(f"--threads {args.threads}: expected dynamic or a whole number >= 1")
    if args.max_seq is not None and args.max_seq < MIN_SEQ + 1:
        fail(f"--max-seq {args.max_seq}: must be at least {MIN_SEQ + 1}")
    return args


def check_environment(device):
    """Fails with what to install when torch, transformers or a C++ compiler is missing."""
    try:
        import torch
    except ImportError:
        fail("torch is not importable: put the bootstrapped torch on PYTHONPATH "
             "(~/.cache/bert-latency/libtorch-2.11.0/site-packages)")
    try:
        import transformers  # noqa: F401
    except ImportError:
        fail("transformers is not importable: install it with `python3 -m pip install --target "
             "~/.cache/bert-latency/bench-packages transformers==5.24.0 safetensors` (where "
             "`cargo xtask bench-transformers` and the model-zoo tests put it) and put that folder "
             "on PYTHONPATH before torch's site-packages")
    compiler = os.environ.get("CXX") or next(
        (c for c in ("g++", "clang++", "c++") if shutil.which(c)), None)
    if compiler is None or shutil.which(compiler) is None:
        fail("no C++ compiler found (g++, clang++ or $CXX): AOTInductor compiles the model's "
             "generated C++ (apt-get install g++)")
    if device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: this torch sees no CUDA GPU")
    return torch


def load_model(args, torch):
    """The transformers model for the task, in eval mode, in the export dtype, on the device."""
    from transformers import (AutoConfig, AutoModel, AutoModelForMaskedLM,
                              AutoModelForSequenceClassification)
    classes = {"classification": AutoModelForSequenceClassification, "mlm": AutoModelForMaskedLM,
               "embedding": AutoModel}
    cls = classes[args.task]
    try:
        if args.model_dir:
            if not os.path.isfile(os.path.join(args.model_dir, "config.json")):
                fail(f"--model-dir {args.model_dir}: no config.json there")
            model = cls.from_pretrained(args.model_dir, attn_implementation=args.attn_implementation)
        else:
            if not os.path.isfile(args.config_json):
                fail(f"--config-json {args.config_json}: no such file")
            with open(args.config_json) as f:
                raw = json.load(f)
            if "model_type" not in raw:
                fail(f"--config-json {args.config_json}: no model_type (bert or modernbert)")
            config = AutoConfig.for_model(**raw)
            if args.task == "classification" and "num_labels" not in raw \
                    and "id2label" not in raw:
                config.num_labels = args.num_labels
            config._attn_implementation = args.attn_implementation
            torch.manual_seed(args.seed)
            model = cls.from_config(config)
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        fail(f"could not load the model: {e}")
    if model.config.model_type not in ("bert", "modernbert"):
        fail(f"model_type {model.config.model_type!r}: this script exports bert and modernbert")
    return model.eval().to(device=args.device, dtype=getattr(torch, DTYPES[args.dtype]))


def wrap(model, task, torch):
    """A module whose forward(input_ids, attention_mask) returns the one output tensor."""

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask)
            return out.last_hidden_state if task == "embedding" else out.logits

    return Encoder().eval()


def batches(shapes, vocab, device, torch, seed=7):
    """Seeded ids (pads are 0) with right-padded masks: row r of a B x S batch keeps
    S - r * S // B tokens (the first row is full), at least 2."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for batch, seq in shapes:
        ids = torch.randint(1, vocab, (batch, seq), generator=g)
        mask = torch.zeros_like(ids)
        for row in range(batch):
            mask[row, :max(2, seq - row * seq // batch)] = 1
        out.append(((ids * mask).to(device), mask.to(device)))
    return out


def main(argv=None):
    args = parse_args(argv)
    torch = check_environment(args.device)
    model = load_model(args, torch)
    config = model.config
    positions = getattr(config, "max_position_embeddings", 8192) or 8192
    max_seq = args.max_seq if args.max_seq is not None else min(positions, 8192)
    if max_seq > positions:
        fail(f"--max-seq {max_seq} exceeds the model's max_position_embeddings {positions}")
    wrapped = wrap(model, args.task, torch)
    batch_dim = torch.export.Dim("batch", min=1, max=args.max_batch)
    seq_dim = torch.export.Dim("seq", min=MIN_SEQ, max=max_seq)
    # Example inputs away from 0/1 and from the bounds, so that no size is specialised.
    example = batches([(min(2, args.max_batch), min(8, max_seq))], config.vocab_size,
                      args.device, torch)[0]
    num_parameters = sum(p.numel() for p in model.parameters())
    metadata = {
        "input_names": "input_ids,attention_mask",
        "output_name": "last_hidden_state" if args.task == "embedding" else "logits",
        "min_batch": 1, "max_batch": args.max_batch, "min_seq": MIN_SEQ, "max_seq": max_seq,
        "dtype": args.dtype, "device": args.device, "torch_version": torch.__version__,
        "task": args.task, "model_type": config.model_type, "vocab_size": config.vocab_size,
        "num_parameters": num_parameters, "threads": args.threads if args.device == "cpu" else "",
    }
    inductor_configs = {"aot_inductor.metadata": {PREFIX + k: str(v) for k, v in metadata.items()}}
    if args.device == "cpu":
        if args.threads == "dynamic":
            inductor_configs["cpp.dynamic_threads"] = True
        else:
            inductor_configs["cpp.threads"] = int(args.threads)
    start = time.time()
    try:
        with torch.no_grad():
            exported = torch.export.export(
                wrapped, example,
                dynamic_shapes={"input_ids": {0: batch_dim, 1: seq_dim},
                                "attention_mask": {0: batch_dim, 1: seq_dim}})
    except Exception as e:  # torch.export raises many types
        show(e)
        fail(f"torch.export failed: {type(e).__name__}: {first_line(e)}")
    export_s = time.time() - start
    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    start = time.time()
    try:
        torch._inductor.aoti_compile_and_package(exported, package_path=out,
                                                 inductor_configs=inductor_configs)
    except Exception as e:
        show(e)
        text = str(e)
        if "No space left on device" in text:
            hint = ("the disk is full: Inductor writes its build files under $TMPDIR (or "
                    "TORCHINDUCTOR_CACHE_DIR); free space there or point it elsewhere")
        elif "CppCompileError" in f"{type(e).__name__} {text}":
            hint = "the C++ compiler failed; its command and output are above"
        else:
            hint = "see the message above"
        fail(f"AOTInductor compilation failed ({hint}): {type(e).__name__}: {first_line(e)}")
    compile_s = time.time() - start
    if args.reference:
        from safetensors.torch import save_file
        tensors = {}
        for k, (ids, mask) in enumerate(batches(args.reference_shapes, config.vocab_size,
                                                args.device, torch)):
            with torch.no_grad():
                output = wrapped(ids, mask)
            tensors[f"input_ids_{k}"] = ids.cpu().contiguous()
            tensors[f"attention_mask_{k}"] = mask.cpu().contiguous()
            tensors[f"output_{k}"] = output.float().cpu().contiguous()
        save_file(tensors, args.reference)
    print(json.dumps({"package": out, "bytes": os.path.getsize(out), **metadata,
                      "export_s": round(export_s, 1), "compile_s": round(compile_s, 1),
                      "reference": os.path.abspath(args.reference) if args.reference else None},
                     indent=1))


if __name__ == "__main__":
    main()
