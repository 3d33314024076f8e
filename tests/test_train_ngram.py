"""Training end to end on a tiny made-up corpus: the data rule, the saved files, the card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.evaluation import evaluate, read_labelled_tsv
from classifiers.ngram import FeaturiserConfig
from classifiers.registry import load_classifier
from classifiers.training.train_ngram import TaskPlan, _grid, key, train_task

TEMPLATES = {
    "negative": "Mist, der Zug {i} ist schon wieder zu spät, so ärgerlich!",
    "neutral": "Der Zug {i} fährt heute von Gleis {i}.",
    "positive": "Danke, der Zug {i} war super pünktlich, toll!",
}


def write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{lab}\n" for t, lab in rows))


def rows(numbers: range) -> list[tuple[str, str]]:
    return [(tpl.format(i=i), label) for i in numbers for label, tpl in TEMPLATES.items()]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    test_rows = rows(range(100, 104))
    # Two eval texts sneak into training, differently cased and spaced: they must be dropped.
    leaked = [(f"  {test_rows[0][0].upper()} ", test_rows[0][1]), (test_rows[4][0], "neutral")]
    write(data / "sentiment" / "train" / "train.tsv", rows(range(30)) + leaked)
    write(data / "sentiment" / "train" / "dev.tsv", rows(range(50, 58)))
    write(data / "sentiment" / "eval" / "test.tsv", test_rows)
    return data


def tiny_plan() -> TaskPlan:
    return TaskPlan(
        task="sentiment",
        name="tiny-sentiment",
        version="tiny-sentiment-1.0",
        dev_file="dev.tsv",
        eval_files=("test.tsv",),
        candidates=_grid(
            files=[(("train.tsv", 1.0),)],
            featurisers=[FeaturiserConfig(char_bits=10, word_bits=10)],
            cs=[1.0, 10.0],
            class_weights=[None],
        ),
        offsets=((0.0, 0.0, 0.0), (0.5, 0.0, 0.0)),
        criterion="micro_f1",
    )


def test_training_drops_eval_texts_and_reports_what_the_saved_model_measures(
    data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    config = train_task(tiny_plan(), data_dir, out)
    assert config["training"]["train.tsv"] == {
        "rows_in_file": 92,
        "dropped_as_in_eval": 2,
        "rows_used": 90,
        "sample_weight": 1.0,
    }
    assert config["training"]["dev.tsv"]["rows_used"] == 24
    assert len(config["tuning"]["per_candidate"]) == 2

    model = load_classifier(str(out), "sentiment")
    assert model.model_version == "tiny-sentiment-1.0"
    texts, labels = read_labelled_tsv(data_dir / "sentiment" / "eval" / "test.tsv", "sentiment")
    measured = evaluate(model, texts, labels)
    stored = json.loads((out / "config.json").read_text())["eval"]["test.tsv"]
    for figures in (measured, stored):
        figures.pop("posts_per_s")
    assert measured == stored
    assert measured["micro_f1"] == 1.0

    card = (out / "MODEL_CARD.md").read_text()
    assert "tiny-sentiment-1.0" in card
    assert "| train.tsv | 92 | 2 | 90 | 1.0 |" in card
    assert f"micro-F1 {stored['micro_f1']}, macro-F1 {stored['macro_f1']}" in card


def test_texts_match_ignoring_case_and_spacing() -> None:
    assert key("  Zug\tFÄLLT  aus ") == key("zug fällt aus")
    assert key("Zug fällt aus") != key("Zug fällt aus!")
