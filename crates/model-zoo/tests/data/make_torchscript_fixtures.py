"""Writes the TorchScript fixtures of tests/it/torchscript.rs.

Three tiny encoders whose forward takes (input_ids, attention_mask), saved by torch.jit.trace or
torch.jit.script, returning a tensor, a tuple and a dict; `torchscript.io.safetensors` holds the
inputs and each module's first output as PyTorch computes it, the truth the Rust side must match.

    export PYTHONPATH=$HOME/.cache/bert-latency/libtorch-2.11.0/site-packages   # torch 2.11.0
    /tmp/fixenv/bin/python make_torchscript_fixtures.py                          # + safetensors
"""

from pathlib import Path
from typing import Dict, Tuple

import torch
from safetensors.torch import save_file

HERE = Path(__file__).parent
VOCAB, HIDDEN, LABELS = 50, 16, 3


class Encoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, HIDDEN)
        self.layer = torch.nn.TransformerEncoderLayer(HIDDEN, 2, 32, dropout=0.0, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, LABELS)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.layer(self.embed(input_ids), src_key_padding_mask=attention_mask == 0)
        return hidden * attention_mask.unsqueeze(-1).to(hidden.dtype)

    def logits(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        weights = attention_mask.to(hidden.dtype).unsqueeze(-1)
        return self.head((hidden * weights).sum(1) / weights.sum(1))


class ReturnsTensor(Encoder):
    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.logits(self.encode(input_ids, attention_mask), attention_mask)


class ReturnsTuple(Encoder):
    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encode(input_ids, attention_mask)
        return self.logits(hidden, attention_mask), hidden


class ReturnsDict(Encoder):
    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> Dict[str, torch.Tensor]:
        hidden = self.encode(input_ids, attention_mask)
        return {"last_hidden_state": hidden, "logits": self.logits(hidden, attention_mask)}


def main() -> None:
    torch.manual_seed(0)
    input_ids = torch.randint(3, VOCAB, (2, 7))
    attention_mask = torch.ones(2, 7, dtype=torch.long)
    attention_mask[1, 5:] = 0
    input_ids[1, 5:] = 0
    tensors = {"input_ids": input_ids, "attention_mask": attention_mask}
    for name, cls, how in [
        ("script_tensor", ReturnsTensor, "trace"),
        ("script_tuple", ReturnsTuple, "trace"),
        ("script_dict", ReturnsDict, "script"),
    ]:
        model = cls().eval()
        with torch.no_grad():
            if how == "trace":
                module = torch.jit.trace(model, (input_ids, attention_mask))
            else:
                module = torch.jit.script(model)
            out = module(input_ids, attention_mask)
        # The first tensor of what forward returns: the tensor, the tuple's first, the dict's first.
        first = out if isinstance(out, torch.Tensor) else (out[0] if isinstance(out, tuple) else next(iter(out.values())))
        tensors[name] = first.contiguous()
        tensors[name + "_num_parameters"] = torch.tensor([sum(p.numel() for p in model.parameters())])
        module.save(str(HERE / f"{name}.pt"))
    save_file(tensors, str(HERE / "torchscript.io.safetensors"))


if __name__ == "__main__":
    main()
