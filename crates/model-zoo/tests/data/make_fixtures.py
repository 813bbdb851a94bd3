"""Parity fixtures for the model-zoo crate: tiny random BERT-family encoders and their outputs.

For each case NAME this writes, next to this file:

* ``NAME.safetensors``    the model's weights (float32, checkpoint naming; some cases carry a naming
                          quirk on purpose, see README.md),
* ``NAME.json``           ``{"model_type", "task_type", "num_labels", "config", "notes"}``,
* ``NAME.io.safetensors`` ``input_ids`` int64 [B,S], ``attention_mask`` int64 [B,S] (right padding)
                          and the reference output ``logits`` float32 ([B,L] classification,
                          [B,S,V] mlm, [B,S,H] embedding = last hidden state).

References:

* ModernBERT and classic BERT: HuggingFace ``transformers`` (eager attention, CPU, fp32), models
  built from configs with random weights (no hub access).
* MosaicBERT and FlexBERT: the plain-PyTorch references ``MosaicBert`` and ``FlexBert`` below,
  written from ``shared/specs/models.md`` sections 1 and 3 (padded layout, proper key-padding mask);
  MosaicBERT's LayerNorm epsilons follow mosaicml/examples ``bert_layers.py`` (docs/models.md).

Every parameter is randomly perturbed after construction (norm weights are not all ones, biases
are not all zeros), so code that is wrong but close cannot pass by luck.

Rerun (the output is bit-identical from run to run with the same torch/transformers versions):

    python3 -m venv /tmp/fixenv && /tmp/fixenv/bin/pip install transformers==5.24.0 safetensors numpy
    PYTHONPATH=$HOME/.cache/bert-latency/libtorch-2.11.0/site-packages \\
        /tmp/fixenv/bin/python crates/model-zoo/tests/data/make_fixtures.py
    PYTHONPATH=... /tmp/fixenv/bin/python crates/model-zoo/tests/data/check_fixtures.py

``python make_fixtures.py CASE ...`` regenerates only the named cases.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import transformers
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertForSequenceClassification,
    BertModel,
    ModernBertConfig,
    ModernBertForMaskedLM,
    ModernBertForSequenceClassification,
    ModernBertModel,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
# Perturbation / init scales: matrices (incl. embeddings) and vectors (norm weights around 1, biases).
MATRIX_STD = 0.2
VECTOR_STD = 0.1
# Special ids below FIRST_TOKEN; ordinary tokens are drawn from [FIRST_TOKEN, vocab).
FIRST_TOKEN = 5


def setup_determinism():
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------------------------------------
# Inputs, weights and files
# ---------------------------------------------------------------------------------------------


def make_inputs(gen, seq, vocab, pad_id, cls_id, sep_id, batch=3):
    """Right-padded batch: row lengths S, S-7, S-15; CLS first, SEP at the last real token."""
    lengths = [seq, seq - 7, seq - 15][:batch]
    ids = torch.full((batch, seq), pad_id, dtype=torch.int64)
    mask = torch.zeros((batch, seq), dtype=torch.int64)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(FIRST_TOKEN, vocab, (n,), generator=gen, dtype=torch.int64)
        ids[b, 0] = cls_id
        ids[b, n - 1] = sep_id
        mask[b, :n] = 1
    return ids, mask


def perturb_(model, gen):
    """Adds noise to every (deduplicated, so tied ones once) parameter of an HF model."""
    with torch.no_grad():
        for _, p in model.named_parameters():
            std = MATRIX_STD if p.dim() >= 2 else VECTOR_STD
            p.add_(std * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def init_params(specs, gen):
    """Random parameters for the plain-PyTorch references: specs = [(name, shape, kind)]."""
    params = {}
    for name, shape, kind in specs:
        noise = torch.randn(shape, generator=gen, dtype=torch.float32)
        if kind == "matrix":
            params[name] = MATRIX_STD * noise
        elif kind == "norm":
            params[name] = 1.0 + VECTOR_STD * noise
        elif kind == "bias":
            params[name] = VECTOR_STD * noise
        else:
            raise ValueError(kind)
    return params


def save_tensors(tensors, path):
    out = {k: v.detach().to(torch.float32).contiguous().clone() if v.is_floating_point() else
           v.detach().contiguous().clone() for k, v in tensors.items()}
    save_file(out, path, metadata={"format": "pt"})
    os.chmod(path, 0o644)


def write_json(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def hf_checkpoint(model):
    """model.state_dict() minus the tied duplicates, as HF's save_pretrained drops them."""
    state = model.state_dict()
    tied = getattr(model, "_tied_weights_keys", None) or {}
    if getattr(model.config, "tie_word_embeddings", True) and isinstance(tied, dict):
        for dup, source in tied.items():
            if dup in state:
                assert torch.equal(state[dup], state[source]), (dup, source)
                assert state[dup].data_ptr() == state[source].data_ptr(), (dup, source)
                del state[dup]
    return state


def gamma_beta(state):
    """Old TF naming of released bert-base-uncased: LayerNorm.weight/bias -> LayerNorm.gamma/beta."""
    out = {}
    for k, v in state.items():
        if ".LayerNorm." in k:
            k = k.replace(".LayerNorm.weight", ".LayerNorm.gamma").replace(".LayerNorm.bias", ".LayerNorm.beta")
        out[k] = v
    return out


def strip_model_prefix(state):
    return {k[len("model."):] if k.startswith("model.") else k: v for k, v in state.items()}


# ---------------------------------------------------------------------------------------------
# Shared functional pieces of the plain-PyTorch references
# ---------------------------------------------------------------------------------------------


def act_fn(name):
    return {
        "gelu": F.gelu,  # exact erf GELU
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "silu": F.silu,
        "swish": F.silu,
        "relu": F.relu,
    }[name]


def linear(p, name, x):
    """F.linear with `name.weight` and, when present, `name.bias`."""
    return F.linear(x, p[name + ".weight"], p.get(name + ".bias"))


def split_heads(qkv, heads):
    """[B,S,3H] -> q,k,v [B,nh,S,d]; rows q|k|v, heads contiguous inside each block."""
    b, s, h3 = qkv.shape
    d = h3 // 3 // heads
    qkv = qkv.view(b, s, 3, heads, d)
    q, k, v = qkv.unbind(2)
    return q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)


def merge_heads(ctx):
    b, nh, s, d = ctx.shape
    return ctx.transpose(1, 2).reshape(b, s, nh * d)


def additive_mask(allowed):
    """Boolean "may attend" mask -> float additive mask (0 / finfo.min), never summed twice."""
    zero = torch.zeros(allowed.shape, dtype=torch.float32)
    return zero.masked_fill(~allowed, torch.finfo(torch.float32).min)


def rope(x, base, dim):
    """NeoX (half-split) RoPE on the first `dim` channels of x [B,nh,S,d]; positions 0..S-1."""
    s = x.shape[-2]
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    t = torch.arange(s, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)  # [S, dim/2], fp32
    cos, sin = freqs.cos(), freqs.sin()
    x_rot, x_pass = x[..., :dim], x[..., dim:]
    x1, x2 = x_rot[..., : dim // 2], x_rot[..., dim // 2:]
    out = torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
    return torch.cat((out, x_pass), dim=-1)


# ---------------------------------------------------------------------------------------------
# MosaicBERT reference (models.md section 3)
# ---------------------------------------------------------------------------------------------


def alibi_slopes(n):
    """ALiBi slopes; for n not a power of two, the 2^floor(log2 n) sequence plus every other slope
    of the 2*2^floor(log2 n) sequence."""

    def pow2(m):
        return [2.0 ** (-8.0 * (i + 1) / m) for i in range(m)]

    if math.log2(n).is_integer():
        return pow2(n)
    closest = 2 ** math.floor(math.log2(n))
    return pow2(closest) + pow2(2 * closest)[0::2][: n - closest]


class MosaicBert:
    """MosaicBERT (ALiBi, fused Wqkv with bias, post-norm, GLU FFN) in the padded layout."""

    def __init__(self, config, task, num_labels=None):
        self.c = config
        self.task = task
        self.num_labels = num_labels

    def param_specs(self):
        c = self.c
        h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
        specs = [
            ("bert.embeddings.word_embeddings.weight", (v, h), "matrix"),
            ("bert.embeddings.token_type_embeddings.weight", (c["type_vocab_size"], h), "matrix"),
            ("bert.embeddings.LayerNorm.weight", (h,), "norm"),
            ("bert.embeddings.LayerNorm.bias", (h,), "bias"),
        ]
        for l in range(c["num_hidden_layers"]):
            pre = f"bert.encoder.layer.{l}."
            specs += [
                (pre + "attention.self.Wqkv.weight", (3 * h, h), "matrix"),
                (pre + "attention.self.Wqkv.bias", (3 * h,), "bias"),
                (pre + "attention.output.dense.weight", (h, h), "matrix"),
                (pre + "attention.output.dense.bias", (h,), "bias"),
                (pre + "attention.output.LayerNorm.weight", (h,), "norm"),
                (pre + "attention.output.LayerNorm.bias", (h,), "bias"),
                (pre + "mlp.gated_layers.weight", (2 * i, h), "matrix"),
                (pre + "mlp.wo.weight", (h, i), "matrix"),
                (pre + "mlp.wo.bias", (h,), "bias"),
                (pre + "mlp.layernorm.weight", (h,), "norm"),
                (pre + "mlp.layernorm.bias", (h,), "bias"),
            ]
        if self.task in ("classification", "embedding"):
            # MosaicBERT's BertModel has a pooler by default (BertForMaskedLM builds none).
            specs += [("bert.pooler.dense.weight", (h, h), "matrix"), ("bert.pooler.dense.bias", (h,), "bias")]
        if self.task == "classification":
            specs += [
                ("classifier.weight", (self.num_labels, h), "matrix"),
                ("classifier.bias", (self.num_labels,), "bias"),
            ]
        if self.task == "mlm":
            specs += [
                ("cls.predictions.transform.dense.weight", (h, h), "matrix"),
                ("cls.predictions.transform.dense.bias", (h,), "bias"),
                ("cls.predictions.transform.LayerNorm.weight", (h,), "norm"),
                ("cls.predictions.transform.LayerNorm.bias", (h,), "bias"),
                # decoder.weight is tied to word_embeddings and not stored.
                ("cls.predictions.decoder.bias", (v,), "bias"),
            ]
        return specs

    def ln(self, p, name, x, eps=None):
        # bert_layers.py: the embedding, attention-output and GLU-MLP LayerNorms use
        # config.layer_norm_eps; BertPredictionHeadTransform hard-codes eps=1e-12.
        eps = self.c["layer_norm_eps"] if eps is None else eps
        return F.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], eps)

    def forward(self, p, input_ids, attention_mask):
        c = self.c
        nh, inter = c["num_attention_heads"], c["intermediate_size"]
        act = act_fn(c["hidden_act"])
        b, s = input_ids.shape
        d = c["hidden_size"] // nh

        x = p["bert.embeddings.word_embeddings.weight"][input_ids]
        x = x + p["bert.embeddings.token_type_embeddings.weight"][torch.zeros_like(input_ids)]
        x = self.ln(p, "bert.embeddings.LayerNorm", x)

        slopes = torch.tensor(alibi_slopes(nh), dtype=torch.float32)
        pos = torch.arange(s)
        rel = (pos[None, :] - pos[:, None]).abs()  # [S,S]
        alibi = slopes[:, None, None] * -rel[None].to(torch.float32)  # [nh,S,S]: -slope*|i-j|
        key_mask = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0  # [B,1,1,S]
        bias = alibi[None] + key_mask  # [B,nh,S,S]

        for l in range(c["num_hidden_layers"]):
            pre = f"bert.encoder.layer.{l}."
            q, k, v = split_heads(linear(p, pre + "attention.self.Wqkv", x), nh)
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + bias
            probs = torch.softmax(scores, dim=-1)
            ctx = merge_heads(torch.matmul(probs, v))
            attn = self.ln(p, pre + "attention.output.LayerNorm", linear(p, pre + "attention.output.dense", ctx) + x)
            g = F.linear(attn, p[pre + "mlp.gated_layers.weight"])
            g = act(g[..., :inter]) * g[..., inter:]
            x = self.ln(p, pre + "mlp.layernorm", linear(p, pre + "mlp.wo", g) + attn)

        if self.task == "embedding":
            return x
        if self.task == "classification":
            pooled = torch.tanh(linear(p, "bert.pooler.dense", x[:, 0]))
            return linear(p, "classifier", pooled)
        h = act_fn(c.get("head_pred_act", "gelu"))(linear(p, "cls.predictions.transform.dense", x))
        h = self.ln(p, "cls.predictions.transform.LayerNorm", h, eps=1e-12)
        return F.linear(h, p["bert.embeddings.word_embeddings.weight"], p["cls.predictions.decoder.bias"])


# ---------------------------------------------------------------------------------------------
# FlexBERT reference (models.md section 1), padded layout with a key-padding mask
# ---------------------------------------------------------------------------------------------


def strip_padding(name):
    for prefix in ("unpadded_", "padded_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


class FlexBert:
    """FlexBERT (any knob combination used here) with dense [B,S,H] tensors and masked attention."""

    def __init__(self, config, task, num_labels=None):
        self.c = config
        self.task = task
        self.num_labels = num_labels
        self.attention = strip_padding(config["attention_layer"])
        self.layer = strip_padding(config["bert_layer"])
        self.mlp = strip_padding(config["mlp_layer"])
        self.norm_eps = config.get("norm_kwargs", {}).get("eps", 1e-5)
        self.norm_bias = config.get("norm_kwargs", {}).get("bias", True)
        assert not config.get("rotary_emb_interleaved", False)

    # -- shapes ---------------------------------------------------------------------------------
    def norm_specs(self, name):
        h = self.c["hidden_size"]
        specs = [(name + ".weight", (h,), "norm")]
        if self.c["normalization"] in ("layernorm", "triton_layernorm") and self.norm_bias:
            specs.append((name + ".bias", (h,), "bias"))
        return specs

    def linear_specs(self, name, out_f, in_f, bias):
        specs = [(name + ".weight", (out_f, in_f), "matrix")]
        if bias:
            specs.append((name + ".bias", (out_f,), "bias"))
        return specs

    def param_specs(self):
        c = self.c
        h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
        specs = [("bert.embeddings.tok_embeddings.weight", (v, h), "matrix")]
        if c["embedding_layer"] == "absolute_pos":
            specs.append(("bert.embeddings.position_embeddings.weight", (c["max_position_embeddings"], h), "matrix"))
        if c["embed_norm"]:
            specs += self.norm_specs("bert.embeddings.norm")
        wi_rows = 2 * i if self.mlp in ("glu", "parallel_glu") else i
        for l in range(c["num_hidden_layers"]):
            pre = f"bert.encoder.layers.{l}."
            if self.layer == "parallel_prenorm":
                specs += self.norm_specs(pre + "norm")
                specs += self.linear_specs(pre + "Wqkvff", 3 * h + wi_rows, h, c["attn_qkv_bias"])
                specs += self.linear_specs(pre + "attn.Wo", h, h, c["attn_out_bias"])
                specs += self.linear_specs(pre + "mlp.Wo", h, i, c["mlp_out_bias"])
                continue
            if not (l == 0 and self.layer == "prenorm" and c["skip_first_prenorm"] and c["embed_norm"]):
                specs += self.norm_specs(pre + "attn_norm")
            specs += self.linear_specs(pre + "attn.Wqkv", 3 * h, h, c["attn_qkv_bias"])
            specs += self.linear_specs(pre + "attn.Wo", h, h, c["attn_out_bias"])
            specs += self.norm_specs(pre + "mlp_norm")
            specs += self.linear_specs(pre + "mlp.Wi", wi_rows, h, c["mlp_in_bias"])
            specs += self.linear_specs(pre + "mlp.Wo", h, i, c["mlp_out_bias"])
        if c["final_norm"]:
            specs += self.norm_specs("bert.final_norm")
        if self.task == "mlm":
            specs += self.linear_specs("head.dense", h, h, c["head_pred_bias"])
            if c["head_pred_norm"]:
                specs += self.norm_specs("head.norm")
            # decoder.weight is tied to tok_embeddings and not stored.
            if c["decoder_bias"]:
                specs.append(("decoder.bias", (v,), "bias"))
        elif self.task == "classification":
            specs += self.linear_specs("head.dense", h, h, c["head_class_bias"])
            if c["head_class_norm"]:
                specs += self.norm_specs("head.norm")
            specs += self.linear_specs("classifier", self.num_labels, h, True)
        return specs

    # -- pieces ---------------------------------------------------------------------------------
    def norm(self, p, name, x):
        if self.c["normalization"] in ("layernorm", "triton_layernorm"):
            return F.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p.get(name + ".bias"), self.norm_eps)
        if self.c["normalization"] in ("rmsnorm", "triton_rmsnorm"):
            xf = x.float()
            y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.norm_eps)
            return y.type_as(x) * p[name + ".weight"]
        raise ValueError(self.c["normalization"])

    def glu_or_mlp(self, p, pre, inner):
        """`inner` = Wi output (or the ff slice of Wqkvff) -> activation/gating -> mlp.Wo."""
        act = act_fn(self.c["hidden_act"])
        if self.mlp in ("glu", "parallel_glu"):
            a, g = inner.chunk(2, dim=-1)
            inner = act(a) * g
        else:
            inner = act(inner)
        return linear(p, pre + "mlp.Wo", inner)

    def attend(self, p, pre, qkv, mask, layer_idx):
        c = self.c
        nh = c["num_attention_heads"]
        q, k, v = split_heads(qkv, nh)
        d = q.shape[-1]
        if self.attention in ("rope", "rope_parallel"):
            local = self.is_local(layer_idx)
            base = c["rotary_emb_base"]
            dim = c.get("rotary_emb_dim") or d
            if local and c.get("local_attn_rotary_emb_base", -1) not in (-1, None):
                base = c["local_attn_rotary_emb_base"]
            if local and c.get("local_attn_rotary_emb_dim") is not None:
                dim = c["local_attn_rotary_emb_dim"]
            q, k = rope(q, base, dim), rope(k, base, dim)
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d)) + mask
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        ctx = merge_heads(torch.matmul(probs, v))
        return linear(p, pre + "attn.Wo", ctx)

    def is_local(self, layer_idx):
        c = self.c
        if c.get("sliding_window", -1) in (-1, None) or c["sliding_window"] <= 0:
            return False
        n = c.get("global_attn_every_n_layers", -1)
        return n is None or n <= 0 or layer_idx % n != 0

    # -- forward --------------------------------------------------------------------------------
    def encode(self, p, input_ids, attention_mask):
        c = self.c
        b, s = input_ids.shape
        x = p["bert.embeddings.tok_embeddings.weight"][input_ids]
        if c["embedding_layer"] == "absolute_pos":
            x = x + p["bert.embeddings.position_embeddings.weight"][torch.arange(s)][None]
        if c["embed_norm"]:
            x = self.norm(p, "bert.embeddings.norm", x)

        key_ok = attention_mask.bool()[:, None, None, :]  # [B,1,1,S]
        global_mask = additive_mask(key_ok.expand(b, 1, s, s))
        local_mask = None
        if c.get("sliding_window", -1) not in (-1, None) and c["sliding_window"] > 0:
            pos = torch.arange(s)
            window = (pos[None, :] - pos[:, None]).abs() <= c["sliding_window"] // 2  # [S,S]
            local_mask = additive_mask(key_ok & window[None, None])

        h = c["hidden_size"]
        for l in range(c["num_hidden_layers"]):
            pre = f"bert.encoder.layers.{l}."
            mask = local_mask if self.is_local(l) else global_mask
            if self.layer == "prenorm":
                skip = l == 0 and c["skip_first_prenorm"] and c["embed_norm"]
                a_in = x if skip else self.norm(p, pre + "attn_norm", x)
                x = x + self.attend(p, pre, linear(p, pre + "attn.Wqkv", a_in), mask, l)
                m_in = self.norm(p, pre + "mlp_norm", x)
                x = x + self.glu_or_mlp(p, pre, linear(p, pre + "mlp.Wi", m_in))
            elif self.layer == "postnorm":
                a = self.norm(p, pre + "attn_norm", x + self.attend(p, pre, linear(p, pre + "attn.Wqkv", x), mask, l))
                x = self.norm(p, pre + "mlp_norm", a + self.glu_or_mlp(p, pre, linear(p, pre + "mlp.Wi", a)))
            elif self.layer == "parallel_prenorm":
                fused = linear(p, pre + "Wqkvff", self.norm(p, pre + "norm", x))
                qkv, ff = fused[..., : 3 * h], fused[..., 3 * h:]
                x = x + self.attend(p, pre, qkv, mask, l) + self.glu_or_mlp(p, pre, ff)
            else:
                raise ValueError(self.layer)
        if c["final_norm"]:
            x = self.norm(p, "bert.final_norm", x)
        return x

    def forward(self, p, input_ids, attention_mask):
        c = self.c
        x = self.encode(p, input_ids, attention_mask)
        if self.task == "embedding":
            return x
        if self.task == "mlm":
            y = act_fn(c["head_pred_act"])(linear(p, "head.dense", x))
            if c["head_pred_norm"]:
                y = self.norm(p, "head.norm", y)
            return F.linear(y, p["bert.embeddings.tok_embeddings.weight"], p.get("decoder.bias"))
        pooling = c["pooling_type"]
        if pooling == "cls":
            pooled = x[:, 0]
        elif pooling == "mean":
            pooled = x.mean(dim=1)  # unmasked, as upstream FlexBERT
        elif pooling == "max":
            pooled = x.max(dim=1).values
        else:
            raise ValueError(pooling)
        y = act_fn(c["head_class_act"])(linear(p, "head.dense", pooled))
        if c["head_class_norm"]:
            y = self.norm(p, "head.norm", y)
        return linear(p, "classifier", y)


# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------

MB_PAD, MB_CLS, MB_SEP = 1, 2, 3
BERT_PAD, BERT_CLS, BERT_SEP = 0, 2, 3


def modernbert_config(pooling="cls", num_labels=2):
    config = ModernBertConfig(
        vocab_size=300,
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=4,
        num_attention_heads=4,
        hidden_activation="gelu",
        max_position_embeddings=128,
        norm_eps=1e-5,
        norm_bias=False,
        global_attn_every_n_layers=3,
        local_attention=8,
        global_rope_theta=160000.0,
        local_rope_theta=10000.0,
        pad_token_id=MB_PAD,
        bos_token_id=MB_CLS,
        eos_token_id=MB_SEP,
        cls_token_id=MB_CLS,
        sep_token_id=MB_SEP,
        classifier_pooling=pooling,
        num_labels=num_labels,
        reference_compile=False,
        attn_implementation="eager",
    )
    config._attn_implementation = "eager"
    return config


def bert_config(num_labels=2):
    config = BertConfig(
        vocab_size=300,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        max_position_embeddings=64,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=BERT_PAD,
        num_labels=num_labels,
        attn_implementation="eager",
    )
    config._attn_implementation = "eager"
    return config


MOSAIC_CONFIG = {
    "hidden_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 6,
    "intermediate_size": 64,
    "vocab_size": 304,
    "type_vocab_size": 2,
    "hidden_act": "gelu",
    "head_pred_act": "gelu",
    "normalization": "layernorm",
    # Upstream's default (BertConfig of bert-base-uncased), which bert_layers.py's norms read.
    "layer_norm_eps": 1e-12,
    "pad_token_id": BERT_PAD,
    "alibi_starting_size": 512,
}

# As MOSAIC_CONFIG with a large layer_norm_eps, where using it (embedding, attention-output and
# MLP norms) or not (the MLM head's fixed 1e-12) changes the logits well beyond 1e-5.
MOSAIC_LARGE_EPS_CONFIG = dict(MOSAIC_CONFIG, layer_norm_eps=1e-3)

FLEX_COMMON = {
    "hidden_size": 32,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "intermediate_size": 48,
    "vocab_size": 300,
    "max_position_embeddings": 64,
    "pad_token_id": BERT_PAD,
    "tie_word_embeddings": True,
    # Knobs every case sets explicitly (the case dicts below override them).
    "rotary_emb_base": 10000.0,
    "rotary_emb_dim": None,
    "rotary_emb_interleaved": False,
    "sliding_window": -1,
    "global_attn_every_n_layers": -1,
    "local_attn_rotary_emb_base": -1.0,
    "local_attn_rotary_emb_dim": None,
    "skip_first_prenorm": False,
    "head_pred_act": "gelu",
    "head_pred_bias": False,
    "head_pred_norm": True,
    "decoder_bias": True,
    "pooling_type": "cls",
    "head_class_act": "silu",
    "head_class_bias": False,
    "head_class_norm": False,
}

FLEX_CASES = {
    "flex_base_mlm": dict(
        task="mlm",
        num_labels=None,
        config={
            "embedding_layer": "absolute_pos",
            "embed_norm": True,
            "normalization": "layernorm",
            "norm_kwargs": {"eps": 1e-5, "bias": True},
            "attention_layer": "base",
            "attn_qkv_bias": True,
            "attn_out_bias": True,
            "mlp_layer": "mlp",
            "mlp_in_bias": True,
            "mlp_out_bias": True,
            "hidden_act": "gelu",
            "bert_layer": "postnorm",
            "final_norm": False,
            "head_pred_act": "gelu",
            "head_pred_bias": True,
            "head_pred_norm": True,
            "decoder_bias": True,
        },
        notes="FlexBERT classic BERT layout: learned absolute positions + embedding LayerNorm (with bias), "
        "base attention (no positional signal inside attention) with Wqkv/Wo biases, plain MLP "
        "Wi->gelu->Wo with biases, post-norm layers, no final norm; MLM head dense(bias)->gelu->norm, "
        "decoder tied to tok_embeddings (decoder.weight not stored) + decoder.bias.",
    ),
    "flex_rope_glu_cls_mean": dict(
        task="classification",
        num_labels=2,
        config={
            "embedding_layer": "sans_pos",
            "embed_norm": True,
            "normalization": "rmsnorm",
            "norm_kwargs": {"eps": 1e-6},
            "attention_layer": "rope",
            "attn_qkv_bias": False,
            "attn_out_bias": False,
            "rotary_emb_base": 10000.0,
            "sliding_window": 8,
            "global_attn_every_n_layers": 2,
            "local_attn_rotary_emb_base": 5000.0,
            "mlp_layer": "glu",
            "mlp_in_bias": False,
            "mlp_out_bias": False,
            "hidden_act": "silu",
            "bert_layer": "prenorm",
            "skip_first_prenorm": True,
            "final_norm": True,
            "pooling_type": "mean",
            "head_class_act": "silu",
            "head_class_bias": False,
            "head_class_norm": True,
        },
        notes="RMSNorm (eps 1e-6, weight only) everywhere; RoPE theta 10000 on global layers 0 and 2, "
        "theta 5000 on local layer 1 with sliding_window 8 (|i-j| <= 4); SwiGLU; pre-norm with "
        "skip_first_prenorm (no layers.0.attn_norm); final norm. Pooling is the UNMASKED mean over all S "
        "positions of the final-normed output of the padded forward pass, so pad rows count: they are "
        "the pad tokens' own hidden states (pad queries attend to real keys only; in local layer 1, pad "
        "queries farther than 4 from every real key are fully masked and, with the finfo.min fill, "
        "attend uniformly to all S keys). Head: dense(no bias)->silu->RMSNorm->classifier(bias).",
    ),
    "flex_parallel_cls_cls": dict(
        task="classification",
        num_labels=3,
        config={
            "embedding_layer": "sans_pos",
            "embed_norm": True,
            "normalization": "layernorm",
            "norm_kwargs": {"eps": 1e-5, "bias": False},
            "attention_layer": "rope_parallel",
            "attn_qkv_bias": True,
            "attn_out_bias": False,
            "rotary_emb_base": 10000.0,
            "sliding_window": -1,
            "global_attn_every_n_layers": -1,
            "mlp_layer": "parallel_glu",
            "mlp_in_bias": False,
            "mlp_out_bias": False,
            "hidden_act": "gelu",
            "bert_layer": "parallel_prenorm",
            "final_norm": True,
            "pooling_type": "cls",
            "head_class_act": "gelu",
            "head_class_bias": True,
            "head_class_norm": False,
        },
        notes="Parallel pre-norm layers: one weight-only LayerNorm (eps 1e-5) and one fused Wqkvff "
        "[3H+2I, H] with bias (attn_qkv_bias); out = x + attn.Wo(attn(rope(qkv))) + mlp.Wo(gelu(a)*g). "
        "RoPE theta 10000, global attention only. Final norm; CLS pooling (row 0, no tanh); head "
        "dense(bias)->gelu->(no norm)->classifier(bias).",
    ),
    "flex_embed_partial_rope": dict(
        task="embedding",
        num_labels=None,
        config={
            "embedding_layer": "sans_pos",
            "embed_norm": True,
            "normalization": "layernorm",
            "norm_kwargs": {"eps": 1e-5, "bias": True},
            "attention_layer": "rope",
            "attn_qkv_bias": False,
            "attn_out_bias": False,
            "rotary_emb_base": 10000.0,
            "rotary_emb_dim": 4,
            "mlp_layer": "glu",
            "mlp_in_bias": False,
            "mlp_out_bias": False,
            "hidden_act": "gelu",
            "bert_layer": "prenorm",
            "skip_first_prenorm": False,
            "final_norm": True,
        },
        notes="Partial RoPE: rotary_emb_dim 4 of head_dim 8, NeoX half split within the first 4 channels "
        "(channel j pairs with j+2), channels 4..7 unrotated. LayerNorm with bias (eps 1e-5); GeGLU; "
        "pre-norm with layers.0.attn_norm present (skip_first_prenorm false); final norm. Output: "
        "last hidden state [B,S,H] after the final norm.",
    ),
}


def run_hf_case(name, model_cls, config, task, num_labels, seq, notes, pad, cls_id, sep, quirk=None):
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = model_cls(config).to(torch.float32).eval()
    assert model.config._attn_implementation == "eager", model.config._attn_implementation
    perturb_(model, gen)
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    ids, mask = make_inputs(gen, seq, config.vocab_size, pad, cls_id, sep)
    with torch.no_grad():
        kwargs = {}
        if isinstance(config, BertConfig):
            kwargs["token_type_ids"] = torch.zeros_like(ids)
        out = model(input_ids=ids, attention_mask=mask, **kwargs)
    logits = out.last_hidden_state if task == "embedding" else out.logits
    state = hf_checkpoint(model)
    if quirk == "gamma_beta":
        state = gamma_beta(state)
    elif quirk == "strip_model_prefix":
        state = strip_model_prefix(state)
    model_type = "modern_bert" if isinstance(config, ModernBertConfig) else "hf_bert"
    return write_case(name, model_type, task, num_labels, config.to_dict(), notes, state, ids, mask, logits)


def run_ref_case(name, ref_cls, model_type, config, task, num_labels, seq, notes, pad, cls_id, sep):
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    ref = ref_cls(config, task, num_labels)
    params = init_params(ref.param_specs(), gen)
    ids, mask = make_inputs(gen, seq, config["vocab_size"], pad, cls_id, sep)
    with torch.no_grad():
        logits = ref.forward(params, ids, mask)
    return write_case(name, model_type, task, num_labels, config, notes, params, ids, mask, logits)


def write_case(name, model_type, task, num_labels, config, notes, state, ids, mask, logits):
    assert torch.isfinite(logits).all(), name
    save_tensors(state, os.path.join(HERE, f"{name}.safetensors"))
    save_tensors(
        {"input_ids": ids, "attention_mask": mask, "logits": logits.to(torch.float32)},
        os.path.join(HERE, f"{name}.io.safetensors"),
    )
    write_json(
        {"model_type": model_type, "task_type": task, "num_labels": num_labels, "config": config, "notes": notes},
        os.path.join(HERE, f"{name}.json"),
    )
    real = mask.bool()
    shown = logits if task == "classification" else logits[real]
    print(f"{name:26s} {model_type:11s} {task:14s} logits {tuple(logits.shape)} "
          f"|max| {shown.abs().max().item():.3f} std {shown.std().item():.3f} tensors {len(state)}")
    return logits


def cases():
    """name -> zero-argument function that builds and writes the case."""
    out = {}
    mb_seq = 32
    out["modernbert_mlm"] = lambda: run_hf_case(
        "modernbert_mlm", ModernBertForMaskedLM, modernbert_config(), "mlm", None, mb_seq,
        "HF ModernBertForMaskedLM, eager attention. Layers 0 and 3 global (theta 160000), 1 and 2 local "
        "(local_attention 8: |i-j| <= 4, theta 10000). decoder.weight tied to "
        "model.embeddings.tok_embeddings.weight and not stored; decoder.bias stored.",
        MB_PAD, MB_CLS, MB_SEP)
    out["modernbert_cls_cls"] = lambda: run_hf_case(
        "modernbert_cls_cls", ModernBertForSequenceClassification, modernbert_config("cls", 3),
        "classification", 3, mb_seq,
        "HF ModernBertForSequenceClassification, classifier_pooling cls (row 0 of the final-normed "
        "output, no tanh) -> head (dense no bias, gelu, LayerNorm no bias) -> classifier (bias).",
        MB_PAD, MB_CLS, MB_SEP)
    out["modernbert_cls_mean"] = lambda: run_hf_case(
        "modernbert_cls_mean", ModernBertForSequenceClassification, modernbert_config("mean", 2),
        "classification", 2, mb_seq,
        "HF ModernBertForSequenceClassification, classifier_pooling mean (MASKED: sum(h*mask)/sum(mask)). "
        "Saved WITHOUT the 'model.' prefix on backbone keys (embeddings.*, layers.*, final_norm.*); "
        "head.* and classifier.* as in HF.",
        MB_PAD, MB_CLS, MB_SEP, quirk="strip_model_prefix")
    out["modernbert_embed"] = lambda: run_hf_case(
        "modernbert_embed", ModernBertModel, modernbert_config(), "embedding", None, mb_seq,
        "HF ModernBertModel; output = last_hidden_state (after final_norm). ModernBertModel's own "
        "state dict has no 'model.' prefix (embeddings.*, layers.*, final_norm.*).",
        MB_PAD, MB_CLS, MB_SEP)

    def layer_types_config():
        # transformers v5 keys (issue 13 item 3): a layer pattern that is not "global every n"
        # (layer 0 local) and per-layer-type RoPE thetas.
        config = modernbert_config()
        config.num_hidden_layers = 3
        config.layer_types = ["sliding_attention", "full_attention", "sliding_attention"]
        config.rope_parameters = {
            "full_attention": {"rope_type": "default", "rope_theta": 80000.0},
            "sliding_attention": {"rope_type": "default", "rope_theta": 5000.0},
        }
        return config

    out["modernbert_layer_types"] = lambda: run_hf_case(
        "modernbert_layer_types", ModernBertModel, layer_types_config(), "embedding", None, mb_seq,
        "HF ModernBertModel from transformers-v5 keys: layer_types [sliding, full, sliding] (layer 0 "
        "local, local_attention 8), rope_parameters full_attention theta 80000, sliding_attention "
        "theta 5000; output = last_hidden_state. No 'model.' prefix.",
        MB_PAD, MB_CLS, MB_SEP)

    bert_seq = 24
    out["bert_mlm"] = lambda: run_hf_case(
        "bert_mlm", BertForMaskedLM, bert_config(), "mlm", None, bert_seq,
        "HF BertForMaskedLM, eager. LayerNorm params saved under the old TF names gamma/beta (as the "
        "released bert-base-uncased). cls.predictions.decoder.weight (tied to word_embeddings) and "
        "cls.predictions.decoder.bias (tied to cls.predictions.bias) are not stored; the decoder bias is "
        "cls.predictions.bias. No pooler.",
        BERT_PAD, BERT_CLS, BERT_SEP, quirk="gamma_beta")
    out["bert_cls"] = lambda: run_hf_case(
        "bert_cls", BertForSequenceClassification, bert_config(3), "classification", 3, bert_seq,
        "HF BertForSequenceClassification, eager: tanh(pooler.dense(h[:,0])) -> classifier. token_type_ids "
        "all zeros.",
        BERT_PAD, BERT_CLS, BERT_SEP)
    out["bert_embed"] = lambda: run_hf_case(
        "bert_embed", BertModel, bert_config(), "embedding", None, bert_seq,
        "HF BertModel (add_pooling_layer default true), output = last_hidden_state. BertModel's own "
        "state dict has no 'bert.' prefix (embeddings.*, encoder.layer.*, pooler.*); the pooler is "
        "stored but unused by this output.",
        BERT_PAD, BERT_CLS, BERT_SEP)

    mosaic_seq = 28
    mosaic_notes = ("Plain-PyTorch MosaicBERT reference (make_fixtures.MosaicBert): word + token_type(0) "
                    "embeddings, LayerNorm eps config.layer_norm_eps (1e-12) except the MLM head's "
                    "transform.LayerNorm (always 1e-12, as bert_layers.py), ALiBi with 6 heads "
                    "(slopes 1/4, 1/16, 1/64, 1/256, 1/2, 1/8), fused Wqkv with bias, key mask "
                    "(1-mask)*-10000, post-norm, GLU FFN gelu(first I)*second I. ")
    out["mosaic_mlm"] = lambda: run_ref_case(
        "mosaic_mlm", MosaicBert, "mosaic_bert", MOSAIC_CONFIG, "mlm", None, mosaic_seq,
        mosaic_notes + "MLM head transform.dense->gelu->transform.LayerNorm->decoder tied to "
        "word_embeddings (cls.predictions.decoder.weight not stored) + cls.predictions.decoder.bias. "
        "No pooler.",
        BERT_PAD, BERT_CLS, BERT_SEP)
    out["mosaic_mlm_large_eps"] = lambda: run_ref_case(
        "mosaic_mlm_large_eps", MosaicBert, "mosaic_bert", MOSAIC_LARGE_EPS_CONFIG, "mlm", None,
        mosaic_seq,
        mosaic_notes + "layer_norm_eps 1e-3: the embedding, attention-output and mlp.layernorm norms "
        "use 1e-3, the MLM head's transform.LayerNorm 1e-12 (fixed upstream). Head as mosaic_mlm.",
        BERT_PAD, BERT_CLS, BERT_SEP)
    out["mosaic_cls"] = lambda: run_ref_case(
        "mosaic_cls", MosaicBert, "mosaic_bert", MOSAIC_CONFIG, "classification", 2, mosaic_seq,
        mosaic_notes + "tanh(pooler.dense(h[:,0])) -> classifier.",
        BERT_PAD, BERT_CLS, BERT_SEP)
    out["mosaic_embed"] = lambda: run_ref_case(
        "mosaic_embed", MosaicBert, "mosaic_bert", MOSAIC_CONFIG, "embedding", None, mosaic_seq,
        mosaic_notes + "Output: final encoder hidden states [B,S,H]. bert.pooler.* stored (MosaicBERT "
        "BertModel has a pooler) but unused by this output.",
        BERT_PAD, BERT_CLS, BERT_SEP)

    flex_seq = 32
    for name, case in FLEX_CASES.items():
        config = dict(FLEX_COMMON)
        config.update(case["config"])
        out[name] = (lambda name=name, case=case, config=config: run_ref_case(
            name, FlexBert, "flex_bert", config, case["task"], case["num_labels"], flex_seq,
            "Plain-PyTorch FlexBERT reference (make_fixtures.FlexBert), padded layout with a key-padding "
            "mask (config has no 'padding' key). " + case["notes"],
            BERT_PAD, BERT_CLS, BERT_SEP))
    return out


def main(argv):
    setup_determinism()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}")
    all_cases = cases()
    names = argv or list(all_cases)
    unknown = [n for n in names if n not in all_cases]
    if unknown:
        sys.exit(f"unknown case(s) {unknown}; known: {list(all_cases)}")
    for name in names:
        all_cases[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
