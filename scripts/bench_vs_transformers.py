#!/usr/bin/env python3
"""bert-latency against HuggingFace transformers on the same inputs, in one run (docs/performance.md).

For each case it builds the transformers model (random weights, the architecture's default config,
attn_implementation="sdpa", fp32, CPU) and starts bert-latency's `bench` example
(crates/model-zoo/examples/bench.rs: the same architecture, random weights) on the same seeded
input batches saved to a file. After both warmed up on every batch, passes alternate: one
transformers pass, then one of ours on the same batch, cycling through the batches, so that
machine noise hits both sides alike. It prints both medians and their ratio (ours / transformers:
below 1 means bert-latency is faster) and the median of the per-pair ratios.

    cargo xtask bench-transformers [--quick]       # sets everything up and runs this script

or by hand, with torch 2.11.0 and transformers importable:

    python scripts/bench_vs_transformers.py --bench target/release/examples/bench [--threads 2]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import transformers
from safetensors.torch import save_file

# (name, model type, batch, sequence, lengths) with lengths "full" or (min, max) uniform.
CASES = [
    ("modernbert-base 1x128 full", "modern_bert", 1, 128, "full"),
    ("bert-base 1x128 full", "hf_bert", 1, 128, "full"),
    ("modernbert-base 8x512 full", "modern_bert", 8, 512, "full"),
    ("bert-base 8x512 full", "hf_bert", 8, 512, "full"),
    ("modernbert-base 8x512 uniform 64..512", "modern_bert", 8, 512, (64, 512)),
    ("modernbert-base 1x4096 full", "modern_bert", 1, 4096, "full"),
]
# Targets of the issue: ours / transformers at most this.
TARGETS = {
    "modernbert-base 1x128 full": 1.05,
    "bert-base 1x128 full": 1.05,
    "modernbert-base 8x512 full": 1.05,
    "bert-base 8x512 full": 1.05,
    "modernbert-base 8x512 uniform 64..512": 1 / 1.6,
    "modernbert-base 1x4096 full": 1 / 1.3,
}


def hf_model(model_type: str) -> torch.nn.Module:
    if model_type == "modern_bert":
        config = transformers.ModernBertConfig()  # the defaults are ModernBERT-base's
        config.reference_compile = False
        config._attn_implementation = "sdpa"
        model = transformers.ModernBertModel(config)
    else:
        config = transformers.BertConfig()  # bert-base-uncased
        config._attn_implementation = "sdpa"
        model = transformers.BertModel(config, add_pooling_layer=False)
    return model.eval()


def make_inputs(batch: int, seq: int, lengths, g: torch.Generator):
    ids = torch.randint(1000, 30000, (batch, seq), generator=g)
    if lengths == "full":
        real = torch.full((batch,), seq)
    else:
        low, high = lengths
        real = torch.randint(low, high + 1, (batch,), generator=g)
    mask = (torch.arange(seq).unsqueeze(0) < real.unsqueeze(1)).long()
    return ids * mask, mask


class Ours:
    """The bench example, kept running: one forward pass per batch number written to it."""

    def __init__(self, bench: Path, model_type: str, inputs: Path, threads: int, warmup: int):
        self.proc = subprocess.Popen(
            [str(bench), "--model-type", model_type, "--inputs", str(inputs), "--threads",
             str(threads), "--warmup", str(warmup)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"bench did not start (exit {self.proc.wait()})")

    def run(self, index: int) -> float:
        self.proc.stdin.write(f"{index}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"bench stopped (exit {self.proc.wait()})")
        return float(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def time_hf_once(model, ids, mask) -> float:
    with torch.inference_mode():
        start = time.perf_counter()
        model(input_ids=ids, attention_mask=mask)
        return (time.perf_counter() - start) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, required=True, help="the release `bench` example")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1, help="untimed passes per batch and side")
    parser.add_argument("--iters", type=int, default=10, help="timed passes per side (half for long cases)")
    parser.add_argument("--batches", type=int, default=4, help="distinct input batches per ragged case")
    parser.add_argument("--only", help="run the cases whose name starts with this")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.get_num_threads()} threads, fp32, CPU", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, model_type, batch, seq, lengths) in enumerate(CASES):
            if args.only and not name.startswith(args.only):
                continue
            g = torch.Generator().manual_seed(index)
            count = 1 if lengths == "full" else args.batches
            batches = [make_inputs(batch, seq, lengths, g) for _ in range(count)]
            inputs = Path(tmp) / f"case{index}.safetensors"
            tensors = {}
            for b, (ids, mask) in enumerate(batches):
                tensors[f"input_ids.{b}"] = ids.contiguous()
                tensors[f"attention_mask.{b}"] = mask.contiguous()
            save_file(tensors, str(inputs))
            long_case = batch * seq >= 4096
            iters = max(4, args.iters // 2) if long_case else args.iters
            iters = -(-iters // count) * count  # whole cycles over the batches
            torch.manual_seed(0)
            model = hf_model(model_type)
            with torch.inference_mode():
                for ids, mask in batches:
                    for _ in range(args.warmup):
                        model(input_ids=ids, attention_mask=mask)
            ours = Ours(args.bench, model_type, inputs, args.threads, args.warmup)
            hf_ms, ours_ms = [], []
            for p in range(iters):
                ids, mask = batches[p % count]
                hf_ms.append(time_hf_once(model, ids, mask))
                ours_ms.append(ours.run(p % count))
            ours.close()
            del model
            hf, mine = statistics.median(hf_ms), statistics.median(ours_ms)
            ratio = mine / hf
            paired = statistics.median(o / h for o, h in zip(ours_ms, hf_ms))
            target = TARGETS[name]
            met = "met" if ratio <= target else "MISSED"
            real = sum(int(m.sum()) for _, m in batches) / count
            print(f"{name:38s} transformers {hf:8.1f} ms  ours {mine:8.1f} ms  ratio {ratio:4.2f} "
                  f"(paired {paired:4.2f}; target <= {target:.2f}: {met}; {real:.0f}/{batch * seq} "
                  f"real tokens per batch, {count} batch(es), {iters} pairs)", flush=True)
            results.append({"case": name, "transformers_ms": hf, "ours_ms": mine, "ratio": ratio,
                            "paired_ratio": paired, "target": target, "met": ratio <= target,
                            "pairs": iters, "batches": count,
                            "transformers_samples_ms": hf_ms, "ours_samples_ms": ours_ms})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
