"""A task's own copy of the encoder's top layers, fed by the pass through the shared ones.

The triage categories need what a fine-tuned encoder reads ("Großartig, zum dritten Mal nicht
zugestellt 👏" is a complaint) and the shared encoder was tuned for sentiment and offensive
language. A second encoder pass per post would double the classifier's cost, so a branch
fine-tunes only layers `start` … 11 (LoRA, like the bundled adapter): serving runs the shared
layers once, then the shared top layers and the branch's from layer `start`'s states, for
(12 − start) / 12 more compute, and the sentiment and offensive heads stay exactly as they were.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model
from torch import nn
from transformers import PreTrainedTokenizerFast

from classifiers.e5.pooling import mean_pool

LORA_TARGETS = ("query", "key", "value", "dense")


@dataclass(frozen=True)
class BranchSpec:
    """Where the branch leaves the shared encoder and the size of its adapter."""

    start: int = 8
    rank: int = 16
    alpha: int = 32


class Branch(nn.Module):
    """Layers `spec.start` … last (fp32 copies of the encoder's), mean-pooled at the end."""

    def __init__(self, layers: nn.ModuleList, spec: BranchSpec) -> None:
        super().__init__()
        self.spec = spec
        self.layers = layers

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Layer `start`'s token states (padded) → the branch's pooled embedding."""
        additive = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(
            hidden.dtype
        ).min
        for layer in self.layers:
            hidden = layer(hidden, additive)
        return mean_pool(hidden, attention_mask)

    def make_trainable(self, dropout: float) -> None:
        """Freeze the copied weights and add a LoRA adapter to train instead."""
        self.layers.requires_grad_(False)
        lora = LoraConfig(
            r=self.spec.rank,
            lora_alpha=self.spec.alpha,
            lora_dropout=dropout,
            target_modules=list(LORA_TARGETS),
            bias="none",
        )
        inject_adapter_in_model(lora, self.layers)

    def adapter_state(self) -> dict[str, torch.Tensor]:
        """The trained LoRA matrices (what the bundle stores), detached and contiguous."""
        state = get_peft_model_state_dict(self.layers)
        return {name: tensor.detach().contiguous() for name, tensor in state.items()}

    @classmethod
    def merged(
        cls, layers: nn.ModuleList, spec: BranchSpec, adapter: Mapping[str, torch.Tensor]
    ) -> Branch:
        """A serving branch: the encoder's top layers with the adapter folded into them."""
        branch = cls(layers, spec)
        scale = spec.alpha / spec.rank
        with torch.no_grad():
            for name, down in adapter.items():
                if not name.endswith(".lora_A.weight"):
                    continue
                target = name.removesuffix(".lora_A.weight")
                up = adapter[f"{target}.lora_B.weight"]
                linear = branch.layers.get_submodule(target)
                linear.weight += scale * (up @ down)
        return branch.eval()


def float_layers(encoder: nn.Module, start: int) -> nn.ModuleList:
    """Fp32 copies of a serving encoder's layers from `start` on: unwrapped from bf16
    autocast, int8 Linear layers dequantised, so a branch can be trained or merged on them."""
    model = getattr(encoder, "model", encoder)  # Bf16Autocast wraps the BertModel
    layers = copy.deepcopy(model.encoder.layer[start:])
    for name, module in list(layers.named_modules()):
        if isinstance(module, torch.ao.nn.quantized.dynamic.Linear):
            linear = nn.Linear(module.in_features, module.out_features)
            linear.weight.data = module.weight().dequantize()
            linear.bias.data = module.bias().detach()
            layers.set_submodule(name, linear)
    return layers


def pad(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Unpadded token states → one padded batch and its attention mask."""
    longest = max(s.shape[0] for s in states)
    hidden = torch.zeros(len(states), longest, states[0].shape[1])
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for row, s in enumerate(states):
        hidden[row, : s.shape[0]] = s
        mask[row, : s.shape[0]] = 1
    return hidden, mask


@torch.inference_mode()
def layer_states(
    tokenizer: PreTrainedTokenizerFast,
    encoder: nn.Module,
    prepared: Sequence[str],
    layer: int,
    max_length: int,
    batch_size: int = 32,
) -> list[torch.Tensor]:
    """Each text's token states after `layer` (unpadded), in input order: what a branch
    trains on, computed once, since the shared layers do not change in training."""
    ids = tokenizer(list(prepared), truncation=True, max_length=max_length)["input_ids"]
    order = np.argsort([len(row) for row in ids], kind="stable")
    out: list[torch.Tensor] = [torch.empty(0)] * len(prepared)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
        states = encoder(**batch, output_hidden_states=True).hidden_states[layer]
        for position, row in enumerate(rows):
            length = int(batch["attention_mask"][position].sum())
            out[row] = states[position, :length].float().clone()
    return out
