"""The contract of a text classifier: texts in, label probabilities out, versioned.

Classifiers know nothing of storage or the web. Every prediction carries the
`model_version` that produced it, so stored scores stay explainable after a model changes.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

SENTIMENT_LABELS = ("negative", "neutral", "positive")
OFFENSIVE_LABELS = ("other", "offensive")
TASK_LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": SENTIMENT_LABELS,
    "offensive": OFFENSIVE_LABELS,
}


# Every bundled model directory describes itself in this file; its "format" says which
# classifier reads it.
CONFIG_FILE = "config.json"


class ModelLoadError(Exception):
    """A model spec cannot be loaded; the message names the spec and the reason."""


def read_config(directory: Path) -> dict[str, Any]:
    """The directory's config.json as a dict; `ModelLoadError` if missing or not JSON."""
    path = directory / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{directory}: cannot read {CONFIG_FILE} ({exc})") from exc
    if not isinstance(config, dict):
        raise ModelLoadError(f"{directory}: {CONFIG_FILE} is not a JSON object")
    return config


@dataclass(frozen=True)
class Prediction:
    """One text's label, its probability per label, and the model that said so."""

    label: str
    scores: dict[str, float]
    model_version: str


class TextClassifier(ABC):
    """A model for one task whose `labels` are in the task's canonical order."""

    task: str
    labels: tuple[str, ...]
    model_version: str

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities of shape (len(texts), len(labels)), rows summing to 1."""

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probs = self.predict_proba(texts)
        return [
            Prediction(
                label=self.labels[int(row.argmax())],
                scores={lab: round(float(p), 4) for lab, p in zip(self.labels, row, strict=True)},
                model_version=self.model_version,
            )
            for row in probs
        ]
