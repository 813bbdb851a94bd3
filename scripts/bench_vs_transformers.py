#!/usr/bin/env python3
"""bert-latency against HuggingFace transformers on the same inputs, in one run (docs/performance.md).

For each case it builds the transformers model (random weights, the architecture's default config,
attn_implementation="sdpa", fp32, CPU), makes seeded inputs, times transformers, then runs
bert-latency's `bench` example (crates/model-zoo/examples/bench.rs, the same architecture with
random weights) on the same inputs saved to a file, and prints both medians and their ratio
(ours / transformers: below 1 means bert-latency is faster).

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


def make_inputs(batch: int, seq: int, lengths, seed: int):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1000, 30000, (batch, seq), generator=g)
    if lengths == "full":
        real = torch.full((batch,), seq)
    else:
        low, high = lengths
        real = torch.randint(low, high + 1, (batch,), generator=g)
    mask = (torch.arange(seq).unsqueeze(0) < real.unsqueeze(1)).long()
    return ids * mask, mask


def time_hf(model, ids, mask, warmup: int, iters: int) -> list[float]:
    samples = []
    with torch.inference_mode():
        for _ in range(warmup):
            model(input_ids=ids, attention_mask=mask)
        for _ in range(iters):
            start = time.perf_counter()
            model(input_ids=ids, attention_mask=mask)
            samples.append((time.perf_counter() - start) * 1e3)
    return samples


def time_ours(bench: Path, model_type: str, inputs: Path, threads: int, warmup: int, iters: int):
    out = subprocess.run(
        [str(bench), "--model-type", model_type, "--inputs", str(inputs), "--threads", str(threads),
         "--warmup", str(warmup), "--iters", str(iters)],
        capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"bench failed: {out.stderr.strip()}")
    return json.loads(out.stdout)["samples_ms"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, required=True, help="the release `bench` example")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--iters", type=int, default=10, help="timed passes per side (5 for long cases)")
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"{torch.get_num_threads()} threads, fp32, CPU", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, model_type, batch, seq, lengths) in enumerate(CASES):
            if args.only and args.only not in name:
                continue
            ids, mask = make_inputs(batch, seq, lengths, seed=index)
            inputs = Path(tmp) / f"case{index}.safetensors"
            save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous()}, str(inputs))
            long_case = batch * seq >= 4096
            iters = max(3, args.iters // 2) if long_case else args.iters
            warmup = 1 if long_case else args.warmup
            torch.manual_seed(0)
            model = hf_model(model_type)
            hf = statistics.median(time_hf(model, ids, mask, warmup, iters))
            del model
            ours = statistics.median(time_ours(args.bench, model_type, inputs, args.threads, warmup, iters))
            ratio = ours / hf
            target = TARGETS[name]
            met = "met" if ratio <= target else "MISSED"
            real = int(mask.sum())
            print(f"{name:40s} transformers {hf:9.1f} ms  ours {ours:9.1f} ms  ours/transformers "
                  f"{ratio:5.2f} (target <= {target:.2f}: {met}; {real}/{batch * seq} real tokens, "
                  f"{iters} passes)", flush=True)
            results.append({"case": name, "transformers_ms": hf, "ours_ms": ours, "ratio": ratio,
                            "target": target, "met": ratio <= target, "iters": iters})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
