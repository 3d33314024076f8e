"""The contract of a text classifier: texts in, label probabilities out, versioned.

Classifiers know nothing of storage or the web. Every prediction carries the
`model_version` that produced it, so stored scores stay explainable after a model changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SENTIMENT_LABELS = ("negative", "neutral", "positive")
OFFENSIVE_LABELS = ("other", "offensive")
TASK_LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": SENTIMENT_LABELS,
    "offensive": OFFENSIVE_LABELS,
}


class ModelLoadError(Exception):
    """A model spec cannot be loaded; the message names the spec and the reason."""


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
