"""Any Hugging Face sequence-classification model as a Rufwacht classifier.

Teams with a better (slower) German model, e.g. a fine-tuned BERT, point the config at its
directory or hub id. Its own label names are mapped onto the task's canonical labels, so
stored scores mean the same whichever model produced them.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
from huggingface_hub import constants as hub_constants
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from classifiers.base import TASK_LABELS, ModelLoadError, TextClassifier
from classifiers.textnorm import normalise

MAX_TOKENS = 256
BATCH_SIZE = 32

# Model label names (lowercased, "_" and " " read as "-") that mean a canonical label.
LABEL_SYNONYMS: dict[str, dict[str, str]] = {
    "sentiment": {
        **dict.fromkeys(["negative", "neg", "negativ"], "negative"),
        **dict.fromkeys(["neutral", "neu", "neutr"], "neutral"),
        **dict.fromkeys(["positive", "pos", "positiv"], "positive"),
    },
    "offensive": {
        **dict.fromkeys(
            ["offensive", "offense", "offence", "off", "toxic", "insult", "abuse", "hate",
             "hateful", "hate-speech", "profanity"],
            "offensive",
        ),
        **dict.fromkeys(
            ["other", "none", "neutral", "not", "non-offensive", "not-offensive", "non-toxic",
             "not-toxic", "normal", "no-hate"],
            "other",
        ),
    },
}  # fmt: skip


def label_mapping(spec: str, task: str, id2label: dict[int, str]) -> np.ndarray:
    """A 0/1 matrix (model labels × task labels) that sums model probabilities per label.

    Several model labels may feed one canonical label (insult + abuse → offensive); every
    model label must map somewhere and every canonical label must be fed, or the scores
    would silently mean something else.
    """
    labels = TASK_LABELS[task]
    synonyms = LABEL_SYNONYMS[task]
    names = [str(id2label[i]) for i in range(len(id2label))]
    canonical = [
        synonyms.get(name.strip().lower().replace("_", "-").replace(" ", "-")) for name in names
    ]
    unmapped = [name for name, label in zip(names, canonical, strict=True) if label is None]
    if unmapped:
        raise ModelLoadError(
            f"{spec}: cannot map the model's labels {unmapped} onto the {task} labels "
            f"{list(labels)}"
        )
    missing = [label for label in labels if label not in canonical]
    if missing:
        raise ModelLoadError(
            f"{spec}: the model's labels {names} give no score for {task} label(s) {missing}"
        )
    mapping = np.zeros((len(names), len(labels)), dtype=np.float32)
    for row, label in enumerate(canonical):
        mapping[row, labels.index(str(label))] = 1.0
    return mapping


class HFClassifier(TextClassifier):
    """A sequence-classification model from a local directory or the Hugging Face cache/hub."""

    def __init__(self, spec: str, task: str) -> None:
        if task not in TASK_LABELS:
            raise ModelLoadError(f"{spec}: unknown task {task!r}")
        self.spec = spec
        self.task = task
        self.labels = TASK_LABELS[task]
        self.tokenizer, self.model = _load_pretrained(spec)
        self.model.eval()
        self.mapping = torch.from_numpy(label_mapping(spec, task, self.model.config.id2label))
        revision = getattr(self.model.config, "_commit_hash", None)
        self.model_version = f"hf:{spec}" + (f"@{revision[:12]}" if revision else "")

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)))
        rows = []
        with torch.inference_mode():
            for start in range(0, len(texts), BATCH_SIZE):
                batch = [normalise(t) for t in texts[start : start + BATCH_SIZE]]
                encoded = self.tokenizer(
                    batch,
                    truncation=True,
                    max_length=MAX_TOKENS,
                    padding=True,
                    return_tensors="pt",
                )
                logits = self.model(**encoded).logits
                rows.append(torch.softmax(logits.float(), dim=-1) @ self.mapping)
        return torch.cat(rows).numpy().astype(np.float64)


def _load_pretrained(spec: str) -> tuple[Any, Any]:
    """Tokenizer and model from a directory or the local cache, else from the hub if reachable.

    Asking the hub without a connection retries for about a minute, so reachability is
    checked first and the error says plainly that the model is not available here.
    """
    try:
        return _from_pretrained(spec, local_only=True)
    except OSError as exc:
        if Path(spec).is_dir():
            raise ModelLoadError(f"{spec}: not a loadable Hugging Face model ({exc})") from exc
        local_error = exc
    unreachable = _hub_unreachable()
    if unreachable:
        raise ModelLoadError(
            f"{spec}: not a bundled model, a local model directory, or a model in the local "
            f"Hugging Face cache, and it cannot be downloaded ({unreachable})"
        ) from local_error
    try:
        return _from_pretrained(spec, local_only=False)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{spec}: cannot load from the Hugging Face hub ({exc})") from exc


def _from_pretrained(spec: str, local_only: bool) -> tuple[Any, Any]:
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec, local_files_only=local_only)
        model = AutoModelForSequenceClassification.from_pretrained(
            spec, local_files_only=local_only
        )
    except ValueError as exc:  # e.g. a config whose model type has no classification head
        raise ModelLoadError(f"{spec}: not a sequence-classification model ({exc})") from exc
    return tokenizer, model


def _hub_unreachable() -> str | None:
    """Why the hub cannot be asked (offline mode, no connection), or None if it can."""
    if hub_constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    host = urlparse(hub_constants.ENDPOINT).hostname or ""
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError as exc:
        return f"no connection to {host}: {exc}"
    return None
