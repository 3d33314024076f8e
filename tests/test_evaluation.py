"""Reading labelled TSV files and the figures `rufwacht eval` and the model cards report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from classifiers.base import OFFENSIVE_LABELS, TextClassifier
from classifiers.evaluation import evaluate, read_labelled_tsv
from classifiers.registry import list_models, load_classifier
from tests.conftest import SHARED_DATA, missing_prerequisite

CARD_TOLERANCE = 0.002  # two posts of the smallest eval file (~1,000 posts)


class KeywordClassifier(TextClassifier):
    """Calls a text offensive iff it contains "idiot": predictions we can count by hand."""

    task = "offensive"
    labels = OFFENSIVE_LABELS
    model_version = "keyword-test"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([[0.1, 0.9] if "idiot" in t.lower() else [0.8, 0.2] for t in texts])


def write_tsv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_figures_match_hand_computed_f1(tmp_path: Path) -> None:
    data = write_tsv(
        tmp_path / "small.tsv",
        [
            "text\tlabel\tfine",
            "Du Idiot\ttoxic\tinsult",  # TP
            "So ein Idiot aber auch\toffensive\tinsult",  # TP
            "Halt die Klappe\toffensive\tabuse",  # FN
            "Kein Idiot, nur müde\tother\tother",  # FP
            "Guten Morgen\tother\tother",  # TN
            "Zug fällt aus\tother\tother",  # TN
            "Danke!\tother\tother",  # TN
        ],
    )
    texts, labels = read_labelled_tsv(data, "offensive")
    figures = evaluate(KeywordClassifier(), texts, labels, batch_size=3)
    # offensive: P = R = 2/3; other: P = R = 3/4; micro = accuracy = 5/7.
    assert figures["n"] == 7
    assert figures["micro_f1"] == round(5 / 7, 4)
    assert figures["macro_f1"] == round((2 / 3 + 3 / 4) / 2, 4)
    assert figures["per_class"]["offensive"] == {
        "precision": 0.6667,
        "recall": 0.6667,
        "f1": 0.6667,
        "support": 3,
    }
    assert figures["per_class"]["other"] == {
        "precision": 0.75,
        "recall": 0.75,
        "f1": 0.75,
        "support": 4,
    }
    assert figures["posts_per_s"] > 0


def test_quotes_are_text_and_toxic_means_offensive(tmp_path: Path) -> None:
    data = write_tsv(
        tmp_path / "q.tsv",
        ["label\ttext", 'toxic\t"Lügenpresse" sagt er', 'other\tEr sagte "nein'],
    )
    assert read_labelled_tsv(data, "offensive") == (
        ['"Lügenpresse" sagt er', 'Er sagte "nein'],
        ["offensive", "other"],
    )


def test_unknown_label_names_file_and_line(tmp_path: Path) -> None:
    data = write_tsv(tmp_path / "bad.tsv", ["text\tlabel", "gut\tpositive", "na ja\tmeh"])
    with pytest.raises(ValueError, match=r"bad\.tsv:3: unknown sentiment label 'meh'"):
        read_labelled_tsv(data, "sentiment")


def test_missing_columns_are_named(tmp_path: Path) -> None:
    no_label = write_tsv(tmp_path / "nolabel.tsv", ["text\tfine", "hallo\tx"])
    with pytest.raises(ValueError, match=r"nolabel\.tsv: line 1 must be a header"):
        read_labelled_tsv(no_label, "sentiment")
    short_row = write_tsv(tmp_path / "short.tsv", ["text\tlabel", "hallo"])
    with pytest.raises(ValueError, match=r"short\.tsv:2: expected 2 columns, got 1"):
        read_labelled_tsv(short_row, "sentiment")


def test_labels_of_another_task_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not labels of the offensive model"):
        evaluate(KeywordClassifier(), ["gut"], ["positive"])


@pytest.mark.parametrize(
    ("name", "eval_file", "tolerance"),
    [
        # Sparse dot products and a logistic function: the same figures on every CPU.
        ("ngram-sentiment", "germeval2017_test.tsv", 0),
        ("ngram-offensive", "germeval2018_test.tsv", 0),
        # The e5 encoder (alone or blended) rounds differently per CPU and runs fp32 or bf16,
        # whichever is faster there: that moves one or two posts.
        ("e5-sentiment", "germeval2017_test_dia.tsv", CARD_TOLERANCE),
        ("ensemble-offensive", "germeval2021_test.tsv", CARD_TOLERANCE),
    ],
)
def test_model_card_figures_are_what_evaluate_measures(
    name: str, eval_file: str, tolerance: float
) -> None:
    info = {info.name: info for info in list_models()}[name]
    path = SHARED_DATA / info.task / "eval" / eval_file
    if not path.exists():
        missing_prerequisite(f"{path} not available")
    card = info.eval[eval_file]
    measured = evaluate(load_classifier(name, info.task), *read_labelled_tsv(path, info.task))
    assert measured["n"] == card["n"]
    for figure in ("micro_f1", "macro_f1"):
        assert measured[figure] == pytest.approx(card[figure], abs=tolerance, rel=0), figure
    assert (info.path / "MODEL_CARD.md").read_text().count(
        f"micro-F1 {card['micro_f1']}, macro-F1 {card['macro_f1']}"
    ) == 1
