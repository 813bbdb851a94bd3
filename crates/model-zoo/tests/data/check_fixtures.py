"""Checks the parity fixtures written by make_fixtures.py.

1. Replay: for every case, rebuild the model from NAME.json alone, load NAME.safetensors (undoing
   the case's naming quirk exactly as a loader must: gamma/beta -> weight/bias, missing 'model.'
   prefix, tied weights absent), run it on NAME.io.safetensors and assert that the result equals
   the stored `logits` bit for bit.
2. Cross-checks of the plain-PyTorch FlexBERT reference against transformers (run with the weights
   of the HF fixtures, compared at real tokens, atol 1e-5):
   * FlexBert configured as ModernBERT (sans_pos, weight-only LayerNorm, RoPE 160000/10000,
     sliding window 8 every 3rd layer global, GeGLU, skip_first_prenorm, final norm, gelu head)
     against HF ModernBertForMaskedLM / ModernBertModel / ModernBertForSequenceClassification(cls);
   * FlexBert configured as classic BERT (absolute_pos, postnorm, base attention, MLP with biases,
     LayerNorm eps 1e-12) against HF BertForMaskedLM / BertModel.
3. The ALiBi slope rule against the 12-head list of models.md section 3.

Run: PYTHONPATH=$HOME/.cache/bert-latency/libtorch-2.11.0/site-packages /tmp/fixenv/bin/python check_fixtures.py
"""

import json
import os
import sys

import torch
from safetensors.torch import load_file

sys.dont_write_bytecode = True  # keep tests/data free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402
from transformers import (  # noqa: E402
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertModel,
    ModernBertConfig,
    ModernBertForMaskedLM,
    ModernBertForSequenceClassification,
    ModernBertModel,
)

HERE = mf.HERE
ATOL = 1e-5


def load_case(name):
    with open(os.path.join(HERE, f"{name}.json")) as f:
        meta = json.load(f)
    weights = load_file(os.path.join(HERE, f"{name}.safetensors"))
    io = load_file(os.path.join(HERE, f"{name}.io.safetensors"))
    assert io["input_ids"].dtype == torch.int64 and io["attention_mask"].dtype == torch.int64
    assert io["logits"].dtype == torch.float32
    assert all(t.dtype == torch.float32 for t in weights.values()), name
    return meta, weights, io


def hf_model(meta):
    cfg = dict(meta["config"])
    task = meta["task_type"]
    if meta["model_type"] == "modern_bert":
        config = ModernBertConfig.from_dict(cfg)
        cls = {"mlm": ModernBertForMaskedLM, "classification": ModernBertForSequenceClassification,
               "embedding": ModernBertModel}[task]
    else:
        config = BertConfig.from_dict(cfg)
        cls = {"mlm": BertForMaskedLM, "classification": BertForSequenceClassification,
               "embedding": BertModel}[task]
    config._attn_implementation = "eager"
    return cls(config).eval()


def to_hf_names(model, weights):
    """Undo the fixtures' naming quirks for loading into the HF class."""
    expected = set(model.state_dict())
    out = {}
    for k, v in weights.items():
        k = k.replace(".LayerNorm.gamma", ".LayerNorm.weight").replace(".LayerNorm.beta", ".LayerNorm.bias")
        if k not in expected and "model." + k in expected:
            k = "model." + k
        out[k] = v
    return out


def hf_forward(model, meta, io):
    kwargs = {}
    if meta["model_type"] == "hf_bert":
        kwargs["token_type_ids"] = torch.zeros_like(io["input_ids"])
    out = model(input_ids=io["input_ids"], attention_mask=io["attention_mask"], **kwargs)
    return out.last_hidden_state if meta["task_type"] == "embedding" else out.logits


def replay(name):
    meta, weights, io = load_case(name)
    task = meta["task_type"]
    if meta["model_type"] in ("modern_bert", "hf_bert"):
        model = hf_model(meta)
        state = to_hf_names(model, weights)
        missing, unexpected = model.load_state_dict(state, strict=False)
        tied = set((getattr(model, "_tied_weights_keys", None) or {}).keys())
        assert not unexpected, (name, unexpected)
        assert set(missing) <= tied, (name, missing)
        model.tie_weights()
        for dup, source in (getattr(model, "_tied_weights_keys", None) or {}).items():
            msd = model.state_dict()
            assert torch.equal(msd[dup], msd[source]), (name, dup)
        with torch.no_grad():
            got = hf_forward(model, meta, io)
    else:
        ref_cls = {"mosaic_bert": mf.MosaicBert, "flex_bert": mf.FlexBert}[meta["model_type"]]
        ref = ref_cls(meta["config"], task, meta["num_labels"])
        specs = {n: tuple(s) for n, s, _ in ref.param_specs()}
        assert set(specs) == set(weights), (name, set(specs) ^ set(weights))
        for n, s in specs.items():
            assert tuple(weights[n].shape) == s, (name, n)
        with torch.no_grad():
            got = ref.forward(weights, io["input_ids"], io["attention_mask"])
    assert got.shape == io["logits"].shape, (name, got.shape, io["logits"].shape)
    assert torch.equal(got, io["logits"]), (name, (got - io["logits"]).abs().max().item())
    print(f"replay  {name:26s} identical  {tuple(got.shape)}")


def real_diff(a, b, mask, task):
    d = (a - b).abs()
    if task != "classification":
        d = d[mask.bool()]
    return d.max().item()


def flex_as_modernbert(meta):
    c = meta["config"]
    return {
        "hidden_size": c["hidden_size"], "num_hidden_layers": c["num_hidden_layers"],
        "num_attention_heads": c["num_attention_heads"], "intermediate_size": c["intermediate_size"],
        "vocab_size": c["vocab_size"], "max_position_embeddings": c["max_position_embeddings"],
        "pad_token_id": c["pad_token_id"],
        "embedding_layer": "sans_pos", "embed_norm": True, "normalization": "layernorm",
        "norm_kwargs": {"eps": c["norm_eps"], "bias": False}, "attention_layer": "rope",
        "attn_qkv_bias": False, "attn_out_bias": False,
        "rotary_emb_base": c["rope_parameters"]["full_attention"]["rope_theta"], "rotary_emb_dim": None,
        "sliding_window": c["local_attention"],
        "global_attn_every_n_layers": c["global_attn_every_n_layers"],
        "local_attn_rotary_emb_base": c["rope_parameters"]["sliding_attention"]["rope_theta"],
        "mlp_layer": "glu", "mlp_in_bias": False, "mlp_out_bias": False, "hidden_act": "gelu",
        "bert_layer": "prenorm", "skip_first_prenorm": True, "final_norm": True,
        "head_pred_act": "gelu", "head_pred_bias": False, "head_pred_norm": True, "decoder_bias": True,
        "pooling_type": "cls", "head_class_act": "gelu", "head_class_bias": False, "head_class_norm": True,
    }


def modernbert_to_flex(weights):
    out = {}
    for k, v in weights.items():
        k = k[len("model."):] if k.startswith("model.") else k
        if k.startswith(("embeddings.", "final_norm.")):
            k = "bert." + k
        elif k.startswith("layers."):
            k = "bert.encoder." + k
        out[k] = v
    return out


def flex_as_bert(meta):
    c = meta["config"]
    return {
        "hidden_size": c["hidden_size"], "num_hidden_layers": c["num_hidden_layers"],
        "num_attention_heads": c["num_attention_heads"], "intermediate_size": c["intermediate_size"],
        "vocab_size": c["vocab_size"], "max_position_embeddings": c["max_position_embeddings"],
        "pad_token_id": c["pad_token_id"],
        "embedding_layer": "absolute_pos", "embed_norm": True, "normalization": "layernorm",
        "norm_kwargs": {"eps": c["layer_norm_eps"], "bias": True}, "attention_layer": "base",
        "attn_qkv_bias": True, "attn_out_bias": True, "mlp_layer": "mlp", "mlp_in_bias": True,
        "mlp_out_bias": True, "hidden_act": "gelu", "bert_layer": "postnorm", "skip_first_prenorm": False,
        "final_norm": False, "head_pred_act": "gelu", "head_pred_bias": True, "head_pred_norm": True,
        "decoder_bias": True,
    }


def bert_to_flex(weights):
    w = {k.replace(".gamma", ".weight").replace(".beta", ".bias"): v for k, v in weights.items()}
    w = {k if k.startswith(("bert.", "cls.")) else "bert." + k: v for k, v in w.items()}
    # FlexBERT has no token types: type 0 is folded into the position table (the token table must
    # stay the plain word table, since the MLM decoder is tied to it). HF adds (word + type0) + pos,
    # this adds word + (pos + type0): equal up to fp32 rounding.
    out = {
        "bert.embeddings.tok_embeddings.weight": w["bert.embeddings.word_embeddings.weight"],
        "bert.embeddings.position_embeddings.weight": w["bert.embeddings.position_embeddings.weight"]
        + w["bert.embeddings.token_type_embeddings.weight"][0],
        "bert.embeddings.norm.weight": w["bert.embeddings.LayerNorm.weight"],
        "bert.embeddings.norm.bias": w["bert.embeddings.LayerNorm.bias"],
    }
    layers = {int(k.split(".")[3]) for k in w if k.startswith("bert.encoder.layer.")}
    for l in sorted(layers):
        src, dst = f"bert.encoder.layer.{l}.", f"bert.encoder.layers.{l}."
        for part in ("weight", "bias"):
            out[dst + f"attn.Wqkv.{part}"] = torch.cat(
                [w[src + f"attention.self.{n}.{part}"] for n in ("query", "key", "value")])
            out[dst + f"attn.Wo.{part}"] = w[src + f"attention.output.dense.{part}"]
            out[dst + f"attn_norm.{part}"] = w[src + f"attention.output.LayerNorm.{part}"]
            out[dst + f"mlp.Wi.{part}"] = w[src + f"intermediate.dense.{part}"]
            out[dst + f"mlp.Wo.{part}"] = w[src + f"output.dense.{part}"]
            out[dst + f"mlp_norm.{part}"] = w[src + f"output.LayerNorm.{part}"]
            if "cls.predictions.transform.dense.weight" in w:
                out[f"head.dense.{part}"] = w[f"cls.predictions.transform.dense.{part}"]
                out[f"head.norm.{part}"] = w[f"cls.predictions.transform.LayerNorm.{part}"]
    if "cls.predictions.bias" in w:
        out["decoder.bias"] = w["cls.predictions.bias"]
    return out


def cross_check(name, flex_config, convert):
    meta, weights, io = load_case(name)
    task = meta["task_type"]
    ref = mf.FlexBert(flex_config, task, meta["num_labels"])
    params = convert(weights)
    need = {n for n, _, _ in ref.param_specs()}
    assert need <= set(params), (name, need - set(params))
    with torch.no_grad():
        got = ref.forward(params, io["input_ids"], io["attention_mask"])
    diff = real_diff(got, io["logits"], io["attention_mask"], task)
    print(f"cross   {name:26s} FlexBert reference vs transformers: max |diff| at real tokens {diff:.2e}")
    assert diff <= ATOL, (name, diff)


def main():
    mf.setup_determinism()
    names = sorted(f[: -len(".io.safetensors")] for f in os.listdir(HERE) if f.endswith(".io.safetensors"))
    names = [n for n in names if os.path.exists(os.path.join(HERE, n + ".json"))]
    assert names == sorted(mf.cases()), names
    for name in names:
        replay(name)
    for name in ("modernbert_mlm", "modernbert_embed", "modernbert_cls_cls"):
        meta = load_case(name)[0]
        cross_check(name, flex_as_modernbert(meta), modernbert_to_flex)
    for name in ("bert_mlm", "bert_embed"):
        meta = load_case(name)[0]
        cross_check(name, flex_as_bert(meta), bert_to_flex)
    slopes = mf.alibi_slopes(12)
    want = [0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625, 0.7071, 0.3536, 0.1768, 0.0884]
    assert all(abs(a - b) < 1e-4 for a, b in zip(slopes, want)) and len(slopes) == 12, slopes
    assert mf.alibi_slopes(6) == [0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125], mf.alibi_slopes(6)
    print("alibi   slopes for 12 and 6 heads as in models.md section 3")
    print(f"{len(names)} fixtures replayed bit-identically; all cross-checks within {ATOL:g}")


if __name__ == "__main__":
    main()
