"""A fast model and a strong model as one classifier: a blend that costs little.

The n-gram models judge thousands of posts a second; the fine-tuned encoder is more accurate
but ~20 times slower. They err differently, so a log-linear blend of the two beats either
alone. Most posts are easy, so the fast model alone decides those it is sure of (top
probability ≥ `confident`) and only the rest go through the strong model. Weights, the
confidence bar and decision offsets are tuned together on held-out training rows
(`classifiers.training.tune_ensemble`) for the members' exact versions, which the bundle
records: a member of another version would get weights tuned for a different model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import softmax

from classifiers.base import TASK_LABELS, ModelLoadError, TextClassifier

FORMAT = "rufwacht-ensemble"
EPSILON = 1e-6


@dataclass(frozen=True)
class BlendRule:
    """How two members' probabilities become one: tuned per task."""

    fast_weight: float
    confident: float
    offsets: tuple[float, ...]

    def blend(self, fast: np.ndarray, strong: np.ndarray) -> np.ndarray:
        """Weighted mean of log-probabilities plus offsets, renormalised (rows sum to 1)."""
        logits = self.fast_weight * np.log(fast + EPSILON)
        logits += (1 - self.fast_weight) * np.log(strong + EPSILON)
        return softmax(logits + np.asarray(self.offsets), axis=1).astype(np.float32)

    def sure(self, fast: np.ndarray) -> np.ndarray:
        """Rows the fast model decides alone."""
        return fast.max(axis=1) >= self.confident


class EnsembleClassifier(TextClassifier):
    """The fast member for posts it is sure of, the blend of both members for the rest."""

    def __init__(
        self,
        task: str,
        fast: TextClassifier,
        strong: TextClassifier,
        rule: BlendRule,
        model_version: str,
    ) -> None:
        self.task = task
        self.labels = TASK_LABELS[task]
        self.fast = fast
        self.strong = strong
        self.rule = rule
        self.model_version = model_version

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        probs = self.fast.predict_proba(texts).astype(np.float32)
        unsure = np.flatnonzero(~self.rule.sure(probs))
        if unsure.size:
            strong = self.strong.predict_proba([texts[i] for i in unsure])
            probs[unsure] = self.rule.blend(probs[unsure], strong)
        return probs


def load_ensemble(
    directory: Path,
    config: dict[str, Any],
    task: str,
    load_member: Callable[[str, str], TextClassifier],
) -> EnsembleClassifier:
    """The bundle's classifier; refuses members whose version differs from the tuned one."""
    if config.get("task") != task:
        raise ModelLoadError(f"this is a model for {config.get('task')}, not for {task}")
    try:
        members = {role: config["members"][role] for role in ("fast", "strong")}
        rule = BlendRule(
            float(config["fast_weight"]),
            float(config["confident"]),
            tuple(float(o) for o in config["decision_offsets"]),
        )
        model_version = str(config["model_version"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{directory}: incomplete ensemble config: {exc!r}") from exc
    if len(rule.offsets) != len(TASK_LABELS[task]):
        raise ModelLoadError(f"{directory}: decision_offsets must have one value per {task} label")
    loaded = {role: load_member(spec["spec"], task) for role, spec in members.items()}
    for role, spec in members.items():
        if loaded[role].model_version != spec["model_version"]:
            raise ModelLoadError(
                f"{directory}: tuned for {role} member {spec['spec']} version "
                f"{spec['model_version']}, found {loaded[role].model_version}; re-run "
                "python -m classifiers.training.tune_ensemble"
            )
    return EnsembleClassifier(task, loaded["fast"], loaded["strong"], rule, model_version)
