"""Measuring a classifier on labelled German text: the figures model cards and `rufwacht eval`
report, computed by one function so the two can never disagree."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import f1_score, precision_recall_fscore_support

from classifiers.base import TASK_LABELS, TextClassifier

# Corpus label spellings that mean a canonical label (GermEval 2021 says "toxic").
LABEL_ALIASES = {"offensive": {"toxic": "offensive"}, "sentiment": {}}


def read_labelled_tsv(path: Path | str, task: str) -> tuple[list[str], list[str]]:
    """Texts and canonical labels from a tab-separated file with `text` and `label` columns.

    Files are unquoted (quotes are part of the text), as in the shared data sets.
    """
    if task not in TASK_LABELS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(TASK_LABELS)}")
    path = Path(path)
    aliases = LABEL_ALIASES[task]
    texts: list[str] = []
    labels: list[str] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or "text" not in header or "label" not in header:
            raise ValueError(f"{path}: line 1 must be a header with 'text' and 'label' columns")
        text_col, label_col = header.index("text"), header.index("label")
        for line_no, row in enumerate(reader, start=2):
            if len(row) <= max(text_col, label_col):
                raise ValueError(
                    f"{path}:{line_no}: expected {len(header)} columns, got {len(row)}"
                )
            label = aliases.get(row[label_col].strip().lower(), row[label_col].strip().lower())
            if label not in TASK_LABELS[task]:
                raise ValueError(
                    f"{path}:{line_no}: unknown {task} label {row[label_col]!r} "
                    f"(expected one of {', '.join(TASK_LABELS[task])})"
                )
            texts.append(row[text_col])
            labels.append(label)
    return texts, labels


def evaluate(
    classifier: TextClassifier, texts: Sequence[str], labels: Sequence[str], batch_size: int = 256
) -> dict[str, Any]:
    """n, micro/macro F1, per-class precision/recall/F1/support and posts per second.

    Speed counts only the classifier's wall-clock time, batch by batch, so file reading and
    metric arithmetic do not dilute it.
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    if not texts:
        raise ValueError("nothing to evaluate: no texts")
    unknown = sorted(set(labels) - set(classifier.labels))
    if unknown:
        raise ValueError(f"labels {unknown} are not labels of the {classifier.task} model")
    predicted: list[str] = []
    seconds = 0.0
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        began = time.perf_counter()
        predictions = classifier.predict(batch)
        seconds += time.perf_counter() - began
        predicted += [p.label for p in predictions]
    order = list(classifier.labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=order, zero_division=0
    )
    return {
        "n": len(texts),
        "micro_f1": _round(f1_score(labels, predicted, labels=order, average="micro")),
        "macro_f1": _round(
            f1_score(labels, predicted, labels=order, average="macro", zero_division=0)
        ),
        "per_class": {
            label: {
                "precision": _round(precision[i]),
                "recall": _round(recall[i]),
                "f1": _round(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(order)
        },
        "posts_per_s": _round(len(texts) / seconds) if seconds > 0 else None,
    }


def _round(value: float) -> float:
    return round(float(value), 4)
