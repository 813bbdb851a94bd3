"""Writes `modernbert_config_cases.json`: transformers' own verdict on ModernBERT config.json files
with transformers-v5 keys and legacy nulls, for tests/it/configs.rs (issue 13 item 3).

Each case is a tiny ModernBERT `config.json`. transformers' handling is the truth: the file is
loaded the way `from_pretrained` loads it (`AutoConfig.from_pretrained` on a folder), a
`ModernBertModel` is built from it and run on one short row. The case records

* `transformers`: `"ok"` with the resulting `layer_types`, the RoPE theta per layer type and the
  half window (`sliding_window`), or `"error"` with the exception's first line;
* `ours`: what bert-latency must do, written by hand: `"same"` (accept, and resolve to exactly
  transformers' layers, thetas and window) or the config key our error must name (a refusal;
  where transformers accepts, the note says why we refuse).

    PYTHONPATH=$HOME/.cache/bert-latency/libtorch-2.11.0/site-packages \\
        /tmp/fixenv/bin/python make_config_cases.py   # transformers 5.24.0, torch 2.11.0
"""

import json
import tempfile
from pathlib import Path

import torch
import transformers
from transformers import AutoConfig, ModernBertModel

HERE = Path(__file__).parent
BASE = {
    "model_type": "modernbert", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 24,
    "num_hidden_layers": 4, "num_attention_heads": 2, "max_position_embeddings": 64,
    "local_attention": 4, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
    "cls_token_id": 1, "sep_token_id": 2,
}
FULL, SLIDING = "full_attention", "sliding_attention"

CASES = [
    # (name, changes to BASE, ours, note)
    ("legacy_every_2_thetas", {"global_attn_every_n_layers": 2, "global_rope_theta": 1000.0,
                               "local_rope_theta": 500.0}, "same", "v4 keys"),
    ("v5_keys_as_saved", {"layer_types": [FULL, SLIDING, SLIDING, FULL],
                          "rope_parameters": {FULL: {"rope_type": "default", "rope_theta": 160000.0},
                                              SLIDING: {"rope_type": "default", "rope_theta": 10000.0}},
                          "global_attn_every_n_layers": 3}, "same", "what transformers 5 saves"),
    ("v5_any_pattern", {"layer_types": [SLIDING, FULL, FULL, SLIDING]}, "same",
     "not 'global every n': layer 0 and the last layer local"),
    ("v5_all_global", {"layer_types": [FULL] * 4}, "same", "no local layer"),
    ("v5_legacy_attention_name", {"layer_types": [FULL, "attention", SLIDING, FULL]}, "same",
     "transformers renames 'attention' to full_attention"),
    ("v5_layer_types_too_short", {"layer_types": [FULL, SLIDING, FULL]}, "layer_types", ""),
    ("v5_layer_types_too_long", {"layer_types": [FULL, SLIDING, SLIDING, FULL, FULL]}, "layer_types", ""),
    ("v5_layer_type_unknown", {"layer_types": [FULL, "local_attention", SLIDING, FULL]}, "layer_types[1]", ""),
    ("v5_layer_type_chunked", {"layer_types": [FULL, "chunked_attention", SLIDING, FULL]}, "layer_types[1]",
     "a type transformers allows in general but ModernBERT cannot run"),
    ("v5_rope_full_only", {"rope_parameters": {FULL: {"rope_type": "default", "rope_theta": 80000.0}},
                           "local_rope_theta": 2000.0}, "same",
     "the sliding layers' theta falls back to local_rope_theta"),
    ("v5_rope_sliding_null", {"rope_parameters": {FULL: {"rope_theta": 80000.0}, SLIDING: None}},
     "rope_parameters.sliding_attention", "a null layer-type entry"),
    ("v5_rope_legacy_type_key", {"rope_parameters": {SLIDING: {"type": "default", "rope_theta": 3000.0}}},
     "same", "'type' is the old spelling of rope_type"),
    ("v5_rope_unknown_type", {"rope_parameters": {FULL: {"rope_type": "foo", "rope_theta": 1000.0}}},
     "rope_parameters.full_attention.rope_type", ""),
    ("v5_rope_linear", {"rope_parameters": {SLIDING: {"rope_type": "linear", "factor": 2.0,
                                                      "rope_theta": 1000.0}}},
     "rope_parameters.sliding_attention.rope_type", "scaled RoPE: not implemented by bert-latency"),
    ("v5_rope_flat", {"rope_parameters": {"rope_type": "default", "rope_theta": 5000.0}},
     "rope_parameters.rope_theta", "the first unknown key in sorted order is named"),
    ("v5_rope_theta_null", {"rope_parameters": {FULL: {"rope_type": "default", "rope_theta": None}}},
     "rope_parameters.full_attention.rope_theta", ""),
    ("v5_partial_rotary_factor", {"rope_parameters": {FULL: {"rope_type": "default", "rope_theta": 1000.0,
                                                             "partial_rotary_factor": 0.5}}},
     "rope_parameters.full_attention.partial_rotary_factor",
     "transformers ignores it (rotates whole heads): refused rather than silently ignored"),
    ("legacy_rope_scaling_linear", {"rope_scaling": {"rope_type": "linear", "factor": 2.0}},
     "rope_scaling", "merged into both layer types by transformers; scaled RoPE is not implemented"),
    ("null_global_rope_theta", {"global_rope_theta": None}, "global_rope_theta", ""),
    ("null_local_attention", {"local_attention": None}, "local_attention", ""),
    ("null_global_attn_every_n_layers", {"global_attn_every_n_layers": None}, "global_attn_every_n_layers", ""),
    ("null_norm_eps", {"norm_eps": None}, "norm_eps", ""),
    ("null_hidden_size", {"hidden_size": None}, "hidden_size", ""),
    ("null_classifier_pooling", {"classifier_pooling": None}, "classifier_pooling", ""),
    ("null_token_ids", {"pad_token_id": None, "bos_token_id": None, "eos_token_id": None}, "same",
     "token ids may be None; they do not enter the forward pass"),
    ("null_layer_types", {"layer_types": None, "global_attn_every_n_layers": 2}, "same",
     "null layer_types: derived from global_attn_every_n_layers"),
]


def verdict(config_json):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.json").write_text(json.dumps(config_json))
        try:
            config = AutoConfig.from_pretrained(tmp)
            config._attn_implementation = "eager"
            torch.manual_seed(0)
            model = ModernBertModel(config).eval()
            with torch.no_grad():
                model(input_ids=torch.tensor([[1, 5, 6, 7, 8, 9, 2]]))
        except Exception as e:  # noqa: BLE001 - any failure is transformers' verdict
            return {"transformers": "error", "error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}
        thetas = {kind: config.rope_parameters[kind]["rope_theta"] for kind in set(config.layer_types)}
        return {"transformers": "ok", "layer_types": config.layer_types, "rope_theta": thetas,
                "sliding_window": config.sliding_window}


def main():
    out = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "cases": []}
    for name, changes, ours, note in CASES:
        config = dict(BASE)
        config.update(changes)
        case = {"name": name, "config": config, "ours": ours, "note": note}
        case.update(verdict(config))
        out["cases"].append(case)
        print(f"{name:34s} {case['transformers']:6s} ours={ours} {case.get('error', '')}")
    (HERE / "modernbert_config_cases.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
