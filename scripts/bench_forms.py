#!/usr/bin/env python3
"""The forms users deploy, measured side by side (docs/performance.md, "Deployment forms").

For BERT-base and ModernBERT-base classification (random weights, seed 0, saved once with
save_pretrained: nothing is downloaded) it makes, in --work:
  - the transformers folder (config.json + model.safetensors), which bert-latency's own
    implementations load (`hf_bert`, `modern_bert`);
  - a TorchScript module traced from it (`torchscript`);
  - an AOTInductor package (`aoti`, scripts/export_aoti.py, dynamic up to 8 x 512);
  - an ONNX model (`onnx`, scripts/export_onnx.py, torch.export-based exporter);
then measures all eight in one latency-analysis run (interleaved rounds, so that the forms of a
shape are compared round by round) and ranks them with analyze-latency, and times transformers
itself on the same shapes, eager and under torch.compile, in this process.

    cargo xtask bench-forms [-- --threads 2 --measure 10]   # sets everything up, runs this

Prints a markdown table of medians (ms) and the ratio of each form to transformers eager.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import transformers

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import export_onnx  # noqa: E402

MODELS = {
    "bert-base": ("hf_bert", lambda: transformers.BertConfig(num_labels=2)),
    "modernbert-base": ("modern_bert", lambda: transformers.ModernBertConfig(num_labels=2)),
}
SHAPES = [(1, 128), (8, 512)]


class Classifier(torch.nn.Module):
    """forward(input_ids, attention_mask) -> logits, for tracing."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def log(message):
    print(f"bench_forms: {message}", file=sys.stderr, flush=True)


def make_forms(name, work, skip):
    """The transformers folder and the three exported forms of `name`, made once."""
    folder = work / name
    hf = folder / "hf"
    if not (hf / "model.safetensors").exists():
        torch.manual_seed(0)
        config = MODELS[name][1]()
        if hasattr(config, "reference_compile"):
            config.reference_compile = False
        model = transformers.AutoModelForSequenceClassification.from_config(config)
        model.eval().save_pretrained(hf)
        log(f"saved {hf}")
    model = transformers.AutoModelForSequenceClassification.from_pretrained(hf).eval()
    ids = torch.randint(0, model.config.vocab_size, (2, 64))
    mask = torch.ones_like(ids)
    script = folder / "model.pt"
    if not script.exists():
        with torch.no_grad():
            torch.jit.trace(Classifier(model), (ids, mask), strict=False).save(str(script))
        log(f"traced {script}")
    onnx = folder / "model.onnx"
    if not onnx.exists():
        start = time.time()
        export_onnx.export(model, "classification", str(onnx), "dynamo")
        export_onnx.add_metadata(str(onnx), {"num_parameters": sum(p.numel() for p in model.parameters())})
        log(f"exported {onnx} in {time.time() - start:.0f} s")
    aoti = folder / "model.pt2"
    if "aoti" not in skip and not aoti.exists():
        start = time.time()
        subprocess.run([sys.executable, str(HERE / "export_aoti.py"), "--model-dir", str(hf),
                        "--task", "classification", "--max-batch", "8", "--max-seq", "512",
                        "--out", str(aoti)], check=True)
        log(f"compiled {aoti} in {time.time() - start:.0f} s")
    return model, {"hf": hf, "torchscript": script, "onnx": onnx, "aoti": aoti}


def config_yaml(forms, skip):
    lines = ["models:"]
    for name, (ours, _) in MODELS.items():
        paths = forms[name]
        entries = [(name, ours, paths["hf"]), (f"{name} torchscript", "torchscript", paths["torchscript"]),
                   (f"{name} onnx", "onnx", paths["onnx"])]
        if "aoti" not in skip:
            entries.append((f"{name} aoti", "aoti", paths["aoti"]))
        for label, model_type, path in entries:
            lines += [f'  - name: "{label}"', f'    model_type: "{model_type}"',
                      '    task_type: "classification"', "    num_labels: 2",
                      f'    pretrained_checkpoint: "{path}"']
            if model_type in ("torchscript", "onnx", "aoti"):
                vocab = 50368 if name.startswith("modernbert") else 30522
                lines.append(f"    model_config: {{vocab_size: {vocab}}}")
    return "\n".join(lines) + "\n"


def time_transformers(model, batch, seq, warmup, measure, compiled):
    """Median ms of `measure` forwards after `warmup` (and, compiled, the compile time, s)."""
    ids = torch.randint(1, model.config.vocab_size, (batch, seq))
    mask = torch.ones_like(ids)
    run = Classifier(model).eval()
    compile_s = None
    if compiled:
        start = time.time()
        run = torch.compile(run)
        with torch.no_grad():
            run(ids, mask)
        compile_s = time.time() - start
    times = []
    with torch.no_grad():
        for i in range(warmup + measure):
            start = time.perf_counter()
            run(ids, mask)
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), compile_s


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--latency-analysis", required=True)
    p.add_argument("--analyze-latency", required=True)
    p.add_argument("--work", required=True, type=Path)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--measure", type=int, default=12)
    p.add_argument("--skip", default="", help="comma-separated forms to leave out: aoti, compile")
    p.add_argument("--json", type=Path, help="write the table's numbers here")
    args = p.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    models, forms = {}, {}
    for name in MODELS:
        models[name], forms[name] = make_forms(name, args.work, skip)
    config = args.work / "forms.yaml"
    config.write_text(config_yaml(forms, skip))
    results = args.work / "forms.csv"
    batches = ",".join(sorted({str(b) for b, _ in SHAPES}))
    seqs = ",".join(sorted({str(s) for _, s in SHAPES}))
    command = [args.latency_analysis, "--config-file", str(config), "--output-file", str(results),
               "--device", "cpu", "--threads", str(args.threads), "--batch-size", batches,
               "--sequence-length", seqs, "--warmup-batches", str(args.warmup),
               "--measure-batches", str(args.measure), "--order", "interleaved", "--block", "1"]
    log(" ".join(command))
    subprocess.run(command, check=False)
    rows = json.loads(results.with_suffix(".json").read_text())
    analysis = subprocess.run([args.analyze_latency, str(results.with_suffix(".json")), "--format",
                               "markdown"], capture_output=True, text=True)
    print(analysis.stdout)
    table = {}
    for row in rows:
        key = (row["model_name"].split(" ")[0], row["batch_size"], row["sequence_length"])
        form = row["model_type"] if row["model_type"] in ("torchscript", "onnx", "aoti") else "ours"
        table.setdefault(key, {})[form] = row["median_latency"]
    for name, model in models.items():
        for batch, seq in SHAPES:
            cell = table.setdefault((name, batch, seq), {})
            cell["eager"], _ = time_transformers(model, batch, seq, args.warmup, args.measure, False)
            if "compile" not in skip:
                cell["compiled"], cell["compile_s"] = time_transformers(
                    model, batch, seq, args.warmup, args.measure, True)
            log(f"{name} {batch}x{seq}: {cell}")
    forms_order = ["eager", "compiled", "ours", "torchscript", "aoti", "onnx"]
    print("| model | shape | " + " | ".join(forms_order) + " |")
    print("|---|---|" + "---|" * len(forms_order))
    for (name, batch, seq), cell in sorted(table.items()):
        if (batch, seq) not in SHAPES:
            continue
        eager = cell.get("eager")
        shown = []
        for form in forms_order:
            value = cell.get(form)
            if value is None:
                shown.append("-")
            elif form == "eager" or not eager:
                shown.append(f"{value:.1f}")
            else:
                shown.append(f"{value:.1f} ({value / eager:.2f})")
        print(f"| {name} | {batch} x {seq} | " + " | ".join(shown) + " |")
    if args.json:
        args.json.write_text(json.dumps({f"{k[0]} {k[1]}x{k[2]}": v for k, v in table.items()}, indent=1))


if __name__ == "__main__":
    main()
