#!/usr/bin/env python3
"""Converts a PyTorch or Composer checkpoint (.pt) to safetensors for bert-latency.

libtorch (and so bert-latency) cannot read Python pickles, which is what `torch.save` writes.
Run this once per checkpoint, with the PyTorch that wrote it (or any recent one):

    python scripts/composer_to_safetensors.py ep1-ba1000-rank0.pt model.safetensors \\
        [--config-json config.json] [--allow-pickle]

Where the weights are found, in order:
  * a Composer Trainer checkpoint: obj["state"]["model"] (keys prefixed "model.", the wrapper's
    attribute name, which is stripped);
  * obj["state_dict"] or obj["model"], when it is a dict of tensors;
  * obj itself, when it is a flat dict of tensors (e.g. torch.save(model.state_dict())).
A leading "model." is stripped from every key that has it. Names are kept otherwise: bert-latency
reads FlexBERT (bert.encoder.layers.N.attn.Wqkv...), MosaicBERT
(bert.encoder.layer.N.attention.self.Wqkv...), HF BERT and HF ModernBERT names directly.

--config-json writes the HuggingFace config a Composer checkpoint embeds
(state.integrations.huggingface.model.config.content) so that the folder can be used as
`pretrained_model_name`. --allow-pickle lets torch.load run arbitrary pickled code (Composer
checkpoints hold Python objects; the classes they name must be importable, e.g. `pip install
mosaicml`): only use it on checkpoints you trust. Only the standard library and torch are needed;
the safetensors file is written directly (format: 8-byte little-endian header size, JSON header,
raw little-endian tensor bytes).
"""

import argparse
import ctypes
import json
import struct
import sys
from pathlib import Path

import torch

DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


class ConversionError(Exception):
    """A checkpoint that cannot be converted; the message says why."""


def is_tensor_dict(value) -> bool:
    return isinstance(value, dict) and bool(value) and any(
        isinstance(v, torch.Tensor) for v in value.values()
    )


def find_state_dict(obj) -> tuple[dict, str]:
    """The weights dict of `obj` and where it was found."""
    if isinstance(obj, dict):
        state = obj.get("state")
        if isinstance(state, dict) and is_tensor_dict(state.get("model")):
            return state["model"], "state.model (Composer checkpoint)"
        for key in ("state_dict", "model"):
            if is_tensor_dict(obj.get(key)):
                return obj[key], key
        if is_tensor_dict(obj):
            return obj, "top level (flat state dict)"
    raise ConversionError(
        "no weights found: expected a Composer checkpoint (state.model), a dict with state_dict "
        f"or model, or a flat dict of tensors; got {type(obj).__name__}"
        + (f" with keys {sorted(map(str, obj))[:10]}" if isinstance(obj, dict) else "")
    )


def hf_config(obj):
    """The HuggingFace config a Composer checkpoint embeds, if any."""
    try:
        return obj["state"]["integrations"]["huggingface"]["model"]["config"]["content"]
    except (KeyError, TypeError):
        return None


def clean(state_dict: dict) -> dict:
    """Tensors only, "model." stripped, contiguous on the CPU; rejects clashing names."""
    tensors = {}
    for key, value in state_dict.items():
        if not isinstance(value, torch.Tensor):
            continue
        name = key[len("model."):] if key.startswith("model.") else key
        if name in tensors:
            raise ConversionError(f"two tensors map to '{name}' after stripping 'model.'")
        if value.dtype not in DTYPES:
            raise ConversionError(f"tensor '{key}' has unsupported dtype {value.dtype}")
        tensors[name] = value.detach().to("cpu").contiguous()
    if not tensors:
        raise ConversionError("the state dict holds no tensors")
    return tensors


def write_safetensors(tensors: dict, path: Path) -> int:
    """Writes `tensors` as a safetensors file; returns the bytes of tensor data."""
    header, offset = {}, 0
    for name in sorted(tensors):
        t = tensors[name]
        size = t.numel() * t.element_size()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # align the data to 8 bytes
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in sorted(tensors):
            t = tensors[name]
            if t.numel():
                f.write(ctypes.string_at(t.data_ptr(), t.numel() * t.element_size()))
    partial.replace(path)
    return offset


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="the .pt file (torch.save / Composer)")
    parser.add_argument("output", type=Path, help="the .safetensors file to write")
    parser.add_argument("--config-json", type=Path, help="write the embedded HuggingFace config here")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="let torch.load unpickle arbitrary objects (trusted files only)")
    args = parser.parse_args(argv)
    try:
        if not args.checkpoint.is_file():
            raise ConversionError(f"{args.checkpoint}: no such file")
        if args.output.suffix != ".safetensors":
            raise ConversionError(f"{args.output}: the output must end in .safetensors")
        try:
            obj = torch.load(args.checkpoint, map_location="cpu", weights_only=not args.allow_pickle)
        except Exception as e:  # torch raises several types; the message is what matters
            hint = "" if args.allow_pickle else (
                " (if it holds Python objects, e.g. a Composer checkpoint, rerun with --allow-pickle"
                " for a file you trust)")
            raise ConversionError(f"{args.checkpoint}: torch.load failed: {str(e).splitlines()[0]}{hint}")
        state_dict, where = find_state_dict(obj)
        tensors = clean(state_dict)
        size = write_safetensors(tensors, args.output)
        print(f"{args.output}: {len(tensors)} tensors, {size / 2**20:.1f} MiB, from {where}")
        if args.config_json:
            config = hf_config(obj)
            if config is None:
                raise ConversionError("--config-json: the checkpoint embeds no HuggingFace config")
            args.config_json.write_text(json.dumps(config, indent=2) + "\n")
            print(f"{args.config_json}: HuggingFace config ({config.get('model_type', 'no model_type')})")
    except ConversionError as e:
        print(f"composer_to_safetensors: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
