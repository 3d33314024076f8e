"""Measuring a classifier on labelled German text: the figures model cards and `rufwacht eval`
report, computed by one function so the two can never disagree."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

from classifiers.base import TASK_LABELS, TextClassifier
from classifiers.spam import spam_reasons
from classifiers.triage import ACTIONS, CATEGORIES, TEAMS, Triage
from classifiers.troll import AuthorSignals, HistorySignals, TrollScorer

T = TypeVar("T")

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


@dataclass(frozen=True)
class TrollCase:
    """A post with its author's signals and what a human decided about it."""

    text: str
    author: AuthorSignals
    history: HistorySignals
    troll: bool
    threat: bool


def read_troll_cases(path: Path | str) -> list[TrollCase]:
    """Labelled troll cases, one JSON object per line: `text`, `author` (`account_age_days`,
    `followers`, `posts_last_24h`), `history` (HistorySignals fields), `label` (`troll` or
    `not_troll`) and `threat` (bool); a bad line raises naming its number."""
    return _read_jsonl(path, _troll_case, "troll case")


def _read_jsonl(path: Path | str, parse: Callable[[dict[str, Any]], T], what: str) -> list[T]:
    """One parsed object per non-blank line; a bad line raises naming its number."""
    items = []
    for line_no, line in enumerate(Path(path).read_text("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                items.append(parse(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{line_no}: not a {what}: {exc!r}") from exc
    if not items:
        raise ValueError(f"{path}: no {what}s")
    return items


def _author(record: dict[str, Any]) -> AuthorSignals:
    return AuthorSignals(*(record["author"].get(f.name) for f in fields(AuthorSignals)))


def _troll_case(record: dict[str, Any]) -> TrollCase:
    if record["label"] not in ("troll", "not_troll") or not isinstance(record["threat"], bool):
        raise ValueError("label must be troll or not_troll, threat true or false")
    return TrollCase(
        text=str(record["text"]),
        author=_author(record),
        history=HistorySignals(**record["history"]),
        troll=record["label"] == "troll",
        threat=record["threat"],
    )


def evaluate_trolls(scorer: TrollScorer, cases: Sequence[TrollCase]) -> dict[str, Any]:
    """Precision and recall of the troll flag and of the threat signal on labelled cases."""
    began = time.perf_counter()
    results = scorer.score(
        [c.text for c in cases], [c.author for c in cases], [c.history for c in cases]
    )
    seconds = time.perf_counter() - began
    truths = {"troll": [c.troll for c in cases], "threat": [c.threat for c in cases]}
    said = {"troll": [r.is_troll for r in results], "threat": [r.threat for r in results]}
    return {
        "n": len(cases),
        **{
            signal: {
                "support": sum(truths[signal]),
                "precision": _round(precision_score(truths[signal], said[signal], zero_division=0)),
                "recall": _round(recall_score(truths[signal], said[signal], zero_division=0)),
            }
            for signal in truths
        },
        "posts_per_s": _round(len(cases) / seconds) if seconds > 0 else None,
    }


@dataclass(frozen=True)
class SpamCase:
    """A post with its author's signals and whether a human called it spam."""

    text: str
    author: AuthorSignals
    spam: bool


def read_spam_cases(path: Path | str) -> list[SpamCase]:
    """Labelled spam cases, one JSON object per line: `text`, `author` (AuthorSignals fields)
    and `label` (`spam` or `not_spam`); other fields are ignored."""
    return _read_jsonl(path, _spam_case, "spam case")


def _spam_case(record: dict[str, Any]) -> SpamCase:
    if record["label"] not in ("spam", "not_spam"):
        raise ValueError("label must be spam or not_spam")
    return SpamCase(str(record["text"]), _author(record), record["label"] == "spam")


def evaluate_spam(cases: Sequence[SpamCase]) -> dict[str, Any]:
    """Precision, recall and F1 of `spam_reasons` on labelled cases, with the confusion counts
    so a reader sees how many customers a figure costs."""
    truth = [c.spam for c in cases]
    said = [bool(spam_reasons(c.text, c.author)) for c in cases]
    pairs = list(zip(truth, said, strict=True))
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, said, average="binary", zero_division=0
    )
    return {
        "n": len(cases),
        "spam": {
            "support": sum(truth),
            "precision": _round(precision),
            "recall": _round(recall),
            "f1": _round(f1),
        },
        "confusion": {
            "true_spam": pairs.count((True, True)),
            "false_spam": pairs.count((False, True)),
            "missed_spam": pairs.count((True, False)),
            "true_not_spam": pairs.count((False, False)),
        },
    }


@dataclass(frozen=True)
class TriageCase:
    """A brand post with its author's signals and the category and action a human chose."""

    text: str
    author: AuthorSignals
    history: HistorySignals
    category: str
    action: str
    escalate_to: str | None


def read_triage_cases(path: Path | str) -> list[TriageCase]:
    """Labelled triage posts, one JSON object per line: `text`, `author` (AuthorSignals
    fields), `history` (`recent_brand_posts`, `near_duplicates`, `already_answered`),
    `category`, `action` and `escalate_to`; other fields are ignored."""
    return _read_jsonl(path, _triage_case, "triage case")


def _triage_case(record: dict[str, Any]) -> TriageCase:
    if record["category"] not in CATEGORIES or record["action"] not in ACTIONS:
        raise ValueError(f"unknown category or action {record['category']!r}/{record['action']!r}")
    if record.get("escalate_to") not in (None, *TEAMS):
        raise ValueError(f"unknown team {record['escalate_to']!r}")
    history = record.get("history") or {}
    known = {f.name for f in fields(HistorySignals)}
    return TriageCase(
        text=str(record["text"]),
        author=_author(record),
        history=HistorySignals(**{k: v for k, v in history.items() if k in known}),
        category=record["category"],
        action=record["action"],
        escalate_to=record.get("escalate_to"),
    )


def evaluate_triage(cases: Sequence[TriageCase], triages: Sequence[Triage]) -> dict[str, Any]:
    """Category accuracy, macro-F1, per-category precision/recall/F1 and confusion matrix
    (rows: truth, columns: prediction, both in `CATEGORIES` order), action accuracy, and the
    escalation team accuracy over posts a human escalated."""
    if len(cases) != len(triages):
        raise ValueError(f"{len(cases)} cases but {len(triages)} triages")
    truth = [c.category for c in cases]
    said = [t.category.label for t in triages]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, said, labels=list(CATEGORIES), zero_division=0
    )
    escalated = [(c, t) for c, t in zip(cases, triages, strict=True) if c.action == "escalate"]
    return {
        "n": len(cases),
        "category_accuracy": _round(accuracy_score(truth, said)),
        "category_macro_f1": _round(
            f1_score(truth, said, labels=list(CATEGORIES), average="macro", zero_division=0)
        ),
        "per_category": {
            label: {
                "precision": _round(precision[i]),
                "recall": _round(recall[i]),
                "f1": _round(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(CATEGORIES)
        },
        "action_accuracy": _round(
            sum(c.action == t.action.label for c, t in zip(cases, triages, strict=True))
            / len(cases)
        ),
        "escalation_team_accuracy": _round(
            sum(c.escalate_to == t.action.escalate_to for c, t in escalated) / len(escalated)
        )
        if escalated
        else None,
        "confusion_matrix": {
            "labels": list(CATEGORIES),
            "rows": confusion_matrix(truth, said, labels=list(CATEGORIES)).tolist(),
        },
    }


def _round(value: float) -> float:
    return round(float(value), 4)
