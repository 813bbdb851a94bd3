#!/usr/bin/env python3
"""Loading a BERT-base safetensors checkpoint: bert-latency against transformers' from_pretrained
(docs/performance.md, "Loading a checkpoint").

The checkpoint is made here, offline, once: BertForSequenceClassification(BertConfig(num_labels=2))
(bert-base-uncased's shape, 109.5 M parameters) with random weights (torch seed 0), written by
save_pretrained as config.json + model.safetensors (fp32, about 438 MB) into --checkpoint-dir.
Each measurement is a fresh process that loads it once, fp32 on the CPU, with the same number of
intra-op threads:

- ours: model-zoo's `load_time` example (crates/model-zoo/examples/load_time.rs), model_type
  hf_bert, task classification, 2 labels;
- transformers: BertForSequenceClassification.from_pretrained(folder, dtype=torch.float32) in a
  Python process that imported torch and transformers (and the BERT module) before its clock.

Both report the time from the load call to its return and to the weights being resident in
memory, and the peak resident-set growth over the process before the load (VmHWM, reset through
/proc/self/clear_refs just before, minus VmRSS before). The two times differ for transformers only:
from_pretrained leaves the parameters on safetensors' memory map of the file, pages untouched, so
its side then reads one value per 4 KiB page of every tensor (the first forward pass would fault
them in); ours reads every tensor into its own memory before build returns. One untimed load per
side first (page cache, binaries); then --reps rounds, alternating the order (ours first in even
rounds). Prints the medians, the ratios ours / transformers, and peak growth as a multiple of the
weights' bytes in the file.

    cargo xtask bench-load [-- --reps 7]          # sets everything up and runs this script

or by hand, with torch 2.11.0 and transformers importable:

    python scripts/bench_load.py --load-time target/release/examples/load_time \
        --checkpoint-dir /tmp/bert-base-random [--reps 5] [--threads 2]
"""

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path


def status_bytes(key: str) -> int:
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(key))
    return int(line.split()[1]) * 1024


def transformers_side(folder: Path, threads: int) -> int:
    """One from_pretrained in this process; prints one JSON line like the load_time example.

    from_pretrained leaves the parameters on safetensors' memory map of the file, with pages not
    yet touched; the first forward pass faults them in. So the model is timed twice: when
    from_pretrained returns (load_ms, peak_at_return_bytes), and once one value on every 4 KiB
    page of every parameter and buffer has been read (ready_ms, peak_growth_bytes), which is
    where bert-latency's load ends (its weights are in their own memory when build returns).
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    import transformers

    torch.set_num_threads(threads)
    model_class = transformers.BertForSequenceClassification  # imports the BERT module now
    torch.ones(1024).sum()
    base = status_bytes("VmRSS:")
    file_base = status_bytes("RssFile:")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # VmHWM := VmRSS
    start = time.perf_counter()
    model = model_class.from_pretrained(str(folder), dtype=torch.float32).eval()
    load_ms = (time.perf_counter() - start) * 1e3
    peak_at_return = status_bytes("VmHWM:")
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            t.detach().reshape(-1)[:: max(1, 4096 // t.element_size())].sum()
    ready_ms = (time.perf_counter() - start) * 1e3
    peak, now = status_bytes("VmHWM:"), status_bytes("VmRSS:")
    print(json.dumps({
        "side": "transformers", "load_ms": load_ms, "ready_ms": ready_ms,
        "peak_at_return_bytes": peak_at_return - base, "peak_growth_bytes": peak - base,
        "rss_growth_bytes": now - base, "file_backed_growth_bytes": status_bytes("RssFile:") - file_base,
        "parameters": sum(p.numel() for p in model.parameters()),
    }), flush=True)
    return 0


def make_checkpoint(folder: Path) -> None:
    """Random-weight BERT-base classifier saved with save_pretrained, once (never downloaded)."""
    if (folder / "model.safetensors").is_file() and (folder / "config.json").is_file():
        return
    import torch
    import transformers

    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(transformers.BertConfig(num_labels=2))
    model.save_pretrained(str(partial))
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial.rename(folder)
    print(f"wrote {folder} (transformers {transformers.__version__}, seed 0)", flush=True)


def weight_bytes(file: Path) -> int:
    """Bytes of tensor data in a safetensors file (everything after the header)."""
    with open(file, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
    return file.stat().st_size - 8 - header_len


def measure(command: list, side: str) -> dict:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{side} load failed (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load-time", type=Path, help="the release `load_time` example")
    parser.add_argument("--checkpoint-dir", type=Path, required=True,
                        help="where the checkpoint is (made there if missing)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5, help="timed loads per side")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--transformers-side", action="store_true",
                        help="internal: load once with transformers in this process and print JSON")
    args = parser.parse_args()
    if args.transformers_side:
        return transformers_side(args.checkpoint_dir, args.threads)
    if args.load_time is None:
        parser.error("--load-time is required")
    make_checkpoint(args.checkpoint_dir)
    weights = weight_bytes(args.checkpoint_dir / "model.safetensors")
    ours_cmd = [str(args.load_time), "--model-type", "hf_bert", "--task-type", "classification",
                "--num-labels", "2", "--checkpoint", str(args.checkpoint_dir),
                "--threads", str(args.threads)]
    theirs_cmd = [sys.executable, __file__, "--transformers-side", "--checkpoint-dir",
                  str(args.checkpoint_dir), "--threads", str(args.threads)]
    import torch
    import transformers

    load_before = os.getloadavg()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {args.threads} "
          f"threads, fp32, CPU; {args.checkpoint_dir / 'model.safetensors'}: "
          f"{weights / 1e6:.0f} MB of weights; load average {load_before[0]:.2f}", flush=True)
    measure(ours_cmd, "ours")  # untimed: page cache, binaries, libraries
    measure(theirs_cmd, "transformers")
    samples = {"ours": [], "transformers": []}
    for rep in range(args.reps):
        order = [("ours", ours_cmd), ("transformers", theirs_cmd)]
        for side, command in order if rep % 2 == 0 else order[::-1]:
            r = measure(command, side)
            samples[side].append(r)
            print(f"  {side:12s} returns {r['load_ms']:6.0f} ms, weights resident "
                  f"{r['ready_ms']:6.0f} ms; peak growth {r['peak_growth_bytes'] / 1e6:4.0f} MB "
                  f"({r['peak_growth_bytes'] / weights:.2f}x), "
                  f"{r['file_backed_growth_bytes'] / 1e6:4.0f} MB of it file-backed", flush=True)
    load_after = os.getloadavg()
    keys = ["load_ms", "ready_ms", "peak_at_return_bytes", "peak_growth_bytes", "rss_growth_bytes",
            "file_backed_growth_bytes"]
    summary = {side: {key: statistics.median(r[key] for r in results) for key in keys}
               for side, results in samples.items()}
    for side, results in samples.items():
        summary[side]["parameters"] = results[0]["parameters"]
    print(f"medians of {args.reps} loads per side ({weights / 1e6:.0f} MB of weights):")
    for side, m in summary.items():
        print(f"  {side:12s} returns {m['load_ms']:6.0f} ms (peak growth "
              f"{m['peak_at_return_bytes'] / weights:.2f}x), weights resident {m['ready_ms']:6.0f} ms "
              f"(peak growth {m['peak_growth_bytes'] / 1e6:.0f} MB = "
              f"{m['peak_growth_bytes'] / weights:.2f}x the weights, "
              f"{m['file_backed_growth_bytes'] / 1e6:.0f} MB file-backed); "
              f"{m['parameters'] / 1e6:.1f} M parameters")
    ours, theirs = summary["ours"], summary["transformers"]
    print(f"ours / transformers: {ours['ready_ms'] / theirs['ready_ms']:.2f} to weights resident, "
          f"{ours['load_ms'] / theirs['load_ms']:.2f} to the call's return (load average "
          f"{load_after[0]:.2f} at the end)")
    if args.json:
        args.json.write_text(json.dumps({
            "weights_bytes": weights, "threads": args.threads, "reps": args.reps,
            "load_average": [load_before[0], load_after[0]], "summary": summary,
            "samples": samples}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
