"""Fine-tune an encoder branch (`classifiers.e5.branch`) and a linear head on labelled texts.

The shared layers do not change, so each text's token states where the branch leaves the
encoder are computed once (`layer_states`) and every fit (one per left-out writer, then the
final one) trains only the branch's LoRA adapter and the head over them: minutes, not hours,
on two CPU cores. Settings are fixed here, not tuned: the e5 adapter's LoRA recipe, and a
few epochs, as the triage set is small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from transformers import get_linear_schedule_with_warmup

from classifiers.e5.branch import Branch, BranchSpec, float_layers, layer_states, pad
from classifiers.e5.classifier import MAX_LENGTH, MultiTaskModel, prepare
from classifiers.triage import LinearSoftmax

SEED = 20240


@dataclass(frozen=True)
class BranchHyper:
    """Everything that shapes a branch fit; stored in the triage config and card."""

    epochs: int = 4
    batch_size: int = 16
    lr: float = 5e-4
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    dropout: float = 0.1


@dataclass(frozen=True)
class FittedBranch:
    """A trained adapter and the category head over the branch's pooled embedding."""

    spec: BranchSpec
    adapter: dict[str, torch.Tensor]
    head: LinearSoftmax


class BranchStates:
    """The token states of the training texts where the branch leaves the encoder."""

    def __init__(self, model: MultiTaskModel, texts: Sequence[str], spec: BranchSpec) -> None:
        self.model, self.spec = model, spec
        self.rows = layer_states(
            model.tokenizer, model.encoder, prepare(texts), spec.start, MAX_LENGTH
        )
        self.by_text = dict(zip(texts, self.rows, strict=True))

    def fit(
        self, rows: np.ndarray, labels: Sequence[str], hyper: BranchHyper, seed: int = SEED
    ) -> FittedBranch:
        """Train a fresh adapter and head on `rows` (indices into the texts)."""
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        classes = tuple(sorted(set(labels)))
        targets = torch.tensor([classes.index(label) for label in labels])
        branch = Branch(float_layers(self.model.encoder, self.spec.start), self.spec)
        branch.make_trainable(hyper.dropout)
        head = nn.Sequential(
            nn.Dropout(hyper.dropout), nn.Linear(branch_width(branch), len(classes))
        )
        batches_per_epoch = -(-len(rows) // hyper.batch_size)
        steps = hyper.epochs * batches_per_epoch
        optimiser = torch.optim.AdamW(
            [
                {"params": [p for p in branch.parameters() if p.requires_grad], "lr": hyper.lr},
                {"params": head.parameters(), "lr": hyper.head_lr},
            ],
            weight_decay=hyper.weight_decay,
        )
        schedule = get_linear_schedule_with_warmup(optimiser, int(hyper.warmup * steps), steps)
        branch.train()
        head.train()
        for _ in range(hyper.epochs):
            order = rng.permutation(len(rows))
            for start in range(0, len(order), hyper.batch_size):
                batch = order[start : start + hyper.batch_size]
                hidden, mask = pad([self.rows[rows[i]] for i in batch])
                loss = nn.functional.cross_entropy(head(branch(hidden, mask)), targets[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
        linear = head[1]
        width = linear.in_features
        exported = LinearSoftmax(
            classes,
            np.zeros(width, np.float32),
            np.ones(width, np.float32),
            linear.weight.detach().numpy().copy(),
            linear.bias.detach().numpy().copy(),
        )
        return FittedBranch(self.spec, branch.adapter_state(), exported)

    @torch.inference_mode()
    def embed(self, fitted: FittedBranch, texts: Sequence[str]) -> np.ndarray:
        """The fitted branch's pooled embedding of training texts, as serving computes it
        (adapter merged, eval mode)."""
        layers = float_layers(self.model.encoder, self.spec.start)
        branch = Branch.merged(layers, fitted.spec, fitted.adapter)
        out = []
        for start in range(0, len(texts), 32):
            hidden, mask = pad([self.by_text[t] for t in texts[start : start + 32]])
            out.append(branch(hidden, mask).numpy())
        return np.vstack(out) if out else np.zeros((0, branch_width(branch)), np.float32)


def branch_width(branch: Branch) -> int:
    """The hidden size the branch pools to."""
    return int(branch.layers[-1].output.dense.out_features)
