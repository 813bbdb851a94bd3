"""Writes the non-finite fixtures of report/tests/data with Python's own json and csv modules.

Run from this folder: python3 make_fixtures.py (stdlib only; output does not depend on the Python
version). python_tool.csv and python_tool.json are hand-written (see README.md).
"""
import csv
import json

FIELDS = [
    "model_name", "model_type", "batch_size", "sequence_length", "num_samples",
    "mean_latency", "median_latency", "std_latency", "min_latency", "max_latency",
    "p95_latency", "p99_latency", "tokens_per_second", "samples_per_second",
    "peak_memory_mb", "allocated_memory_mb", "avg_gpu_power_w", "max_gpu_power_w",
]


def record(name, model_type, mean, **overrides):
    values = [name, model_type, 8, 512, 1000, mean, mean - 0.3, 2.1, mean - 3.0, mean + 15.0,
              mean + 7.0, mean + 13.0, 4096 / mean * 1000, 8 / mean * 1000, 1234.5, 512.25,
              210.5, 245.0]
    row = dict(zip(FIELDS, values))
    row.update(overrides)
    return row


nan, inf = float("nan"), float("inf")
records = [
    # No power reading: the Python tool's NVML path stored NaN.
    record("flex-bert-base", "flex_bert", 45.23, avg_gpu_power_w=nan, max_gpu_power_w=nan),
    # Strings that hold the non-finite tokens, quotes and non-ASCII stay strings.
    record('NaN-model "Infinity" \u00e9', "NaN", 48.91, avg_gpu_power_w=inf,
           max_gpu_power_w=-inf, peak_memory_mb=nan),
    # Raw latencies with a NaN in them: readable, but not usable samples.
    dict(record("hf-bert-base", "hf_bert", 52.67), latencies_ms=[52.0, nan, 53.1]),
]
with open("python_nan.json", "w") as f:
    json.dump(records, f, indent=2)
    f.write("\n")

required = [record("flex-bert-base", "flex_bert", 45.23),
            record("hf-bert-base", "hf_bert", 52.67, mean_latency=nan)]
with open("python_nan_required.json", "w") as f:
    json.dump(required, f, indent=2)
    f.write("\n")

with open("python_nan.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=FIELDS)
    writer.writeheader()
    for row in records:
        writer.writerow({k: row[k] for k in FIELDS})
