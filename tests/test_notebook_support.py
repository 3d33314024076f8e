"""What the retraining notebooks rely on: the team's held-out slice never reaches training,
smoke runs stay small, versions get new names, calibration and error views say the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from classifiers.evaluation import read_labelled_tsv
from classifiers.model_registry import Registry
from classifiers.training import notebook_support as nb
from classifiers.training.team_labels import write_labelled_tsv
from classifiers.training.train_ngram import eval_keys, key, read_split, without
from scripts.notebooks import clean, dirty, inject, parameter_value


def public_data(root: Path) -> Path:
    rows = [(f"Zug {i} ist {'spät' if i % 2 else 'pünktlich'}", "neutral") for i in range(50)]
    write_labelled_tsv(root / "sentiment" / "train" / "tweets.tsv", rows)
    write_labelled_tsv(root / "sentiment" / "eval" / "test.tsv", [("Zug 3 ist spät", "negative")])
    write_labelled_tsv(root / "offensive" / "train" / "hate.tsv", [("Du Idiot", "offensive")])
    write_labelled_tsv(root / "offensive" / "eval" / "test.tsv", [("Ihr Deppen", "offensive")])
    return root


def test_team_heldout_slice_is_staged_as_eval_so_training_never_sees_it(tmp_path: Path) -> None:
    team = {"sentiment": [(f"Ich bin so genervt, Zug {i}", "negative") for i in range(8)]}
    staged = nb.stage_data(public_data(tmp_path / "public"), tmp_path / "staged", team, sample=20)

    heldout = staged.team_heldout["sentiment"]
    assert len(heldout) == 2 and staged.team_train == {"sentiment": 6}
    train = read_split(staged.data_dir, "sentiment", "train")
    kept = {name: without(corpus, eval_keys(staged.data_dir)) for name, corpus in train.items()}
    trained = {key(t) for corpus in kept.values() for t in corpus.texts}
    assert not trained & {key(text) for text, _ in heldout}
    assert key("Zug 3 ist spät") not in trained  # the public eval rule still holds
    assert len(train["tweets.tsv"].texts) == 20  # sampled
    assert (
        len(read_labelled_tsv(staged.data_dir / "offensive" / "eval" / "test.tsv", "offensive")[0])
        == 1
    )


def test_full_run_links_the_public_files_unchanged(tmp_path: Path) -> None:
    staged = nb.stage_data(public_data(tmp_path / "public"), tmp_path / "staged")
    linked = staged.data_dir / "sentiment" / "train" / "tweets.tsv"
    assert linked.is_symlink() and len(read_labelled_tsv(linked, "sentiment")[0]) == 50
    assert staged.team_heldout == {}


def test_split_team_drops_training_rows_that_repeat_a_heldout_text() -> None:
    rows = [("Gleicher Text", "negative")] * 4 + [("Anderer Text", "neutral")]
    train, heldout = nb.split_team(rows, share=0.25, seed=1)
    assert heldout and not {key(t) for t, _ in train} & {key(t) for t, _ in heldout}
    assert nb.split_team([("allein", "negative")]) == ([("allein", "negative")], [])


def test_smoke_runs_are_small_and_full_runs_use_the_defaults() -> None:
    assert nb.run_settings(200, None, None, None) == (1, 10, 100)
    assert nb.run_settings(None, None, None, None) == (2, None, None)
    assert nb.run_settings(200, 3, 50, 20) == (3, 50, 20)


def test_next_version_follows_the_registry(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models")  # never written: the bundled versions
    assert nb.next_version(registry, "e5-multitask") == "e5-multitask-1.2"
    assert nb.next_version(registry, "triage", nb.sample_suffix(200)) == "triage-2.1-sample200"
    assert nb.next_version(registry, "brand-new") == "brand-new-1.0"


class Fixed:
    """A classifier whose answers the test chooses."""

    labels = ("negative", "neutral", "positive")

    def __init__(self, said: list[tuple[str, float]]) -> None:
        self.said = said

    def predict(self, texts: list[str]) -> list:
        from classifiers.base import Prediction

        out = []
        for label, p in self.said[: len(texts)]:
            rest = (1 - p) / 2
            scores = {name: (p if name == label else rest) for name in self.labels}
            out.append(Prediction(label, scores, "fixed-1"))
        return out


def test_reliability_and_errors_of_an_overconfident_model() -> None:
    said = [("negative", 0.95)] * 10
    gold = ["negative"] * 5 + ["neutral"] * 5
    result = nb.answers(Fixed(said), [f"Post {i}" for i in range(10)], gold)  # type: ignore[arg-type]

    table = nb.reliability(result)
    assert table["bins"] == [
        {"low": 0.9, "high": 1.0, "confidence": 0.95, "accuracy": 0.5, "n": 10}
    ]
    assert table["ece"] == 0.45
    assert nb.confusion(result).tolist() == [[5, 0, 0], [5, 0, 0], [0, 0, 0]]
    errors = nb.errors(result, n=3)
    assert [e["truth"] for e in errors] == ["neutral"] * 3 and errors[0]["said"] == "negative"
    assert "| neutral | negative | 0.95 | Post 5 |" in nb.errors_table(errors)
    figure = nb.save_figure(nb.reliability_figure(result, "t"), None, "x")
    assert figure.axes[0].get_xlabel() == "confidence of the top label"


def test_sample_cases_keeps_every_writers_every_category() -> None:
    from classifiers.training.train_triage import training_rows

    cases, writers = training_rows()
    picked, picked_writers = nb.sample_cases(cases, writers, 200, seed=3)
    assert 150 <= len(picked) <= 260
    cells = {(w, c.category) for c, w in zip(cases, writers, strict=True)}
    assert {(w, c.category) for c, w in zip(picked, picked_writers, strict=True)} == cells


def test_registry_card_marks_smoke_runs() -> None:
    card = nb.registry_card({"sentiment": {"x.tsv": {"macro_f1": 0.5}}}, {"rows": 1}, "cmd", 200)
    assert card["sample"] == 200 and "not for promotion" in card["note"]
    assert "sample" not in nb.registry_card({}, {}, "cmd")
    command = nb.training_command("notebooks/a.ipynb", {"SAMPLE": None, "LABELS": "l.jsonl"})
    assert (
        command
        == "python -m scripts.notebooks run notebooks/a.ipynb -p SAMPLE null -p LABELS '\"l.jsonl\"'"
    )


def test_parameters_are_injected_after_the_parameters_cell_and_outputs_found() -> None:
    import nbformat

    book = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("SAMPLE = None", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("print(SAMPLE)"),
        ]
    )
    inject(book, {"SAMPLE": parameter_value("200"), "LABELS": parameter_value("x.jsonl")})
    assert book.cells[1].source == "# Parameters\nSAMPLE = 200\nLABELS = 'x.jsonl'\n"
    book.cells[2].execution_count = 3
    book.cells[2].outputs = [nbformat.v4.new_output("stream", text="200\n")]
    assert dirty(book) == ["cell 3 has outputs", "cell 3 has an execution count"]
    assert dirty(clean(book)) == []
    assert np.isclose(parameter_value("0.5"), 0.5)


def test_team_slice_figures_count_only_the_categories_it_has() -> None:
    from classifiers.evaluation import evaluate_triage
    from classifiers.triage import ActionDecision, CategoryDecision, Triage

    def said(label: str) -> Triage:
        return Triage(
            CategoryDecision(label, 0.9, []), ActionDecision("none", None, 0.9, []), "t-1"
        )

    cases = [nb.team_case("Wann fährt der Zug?", "question"), nb.team_case("Mist!", "complaint")]
    figures = evaluate_triage(cases, [said("question"), said("question")])
    assert nb.category_headline(figures) == {
        "n": 2,
        "category_accuracy": 0.5,
        "category_macro_f1": 0.3333,  # question 2/3, complaint 0; absent categories not counted
    }


def test_e5_smoke_run_caps_steps_across_epochs_and_trains_team_files_when_present() -> None:
    from classifiers.training.train_e5 import capped_plans, task_files
    from classifiers.training.train_ngram import Corpus

    plans = [[("sentiment", [0]), ("offensive", [1]), ("sentiment", [2])], [("offensive", [3])]]
    assert capped_plans(plans, 2) == [plans[0][:2], []]
    assert capped_plans(plans, None) == plans
    raw = {nb.TEAM_TRAIN_FILE: Corpus(nb.TEAM_TRAIN_FILE, ["Mist"], ["negative"])}
    assert task_files("sentiment", raw, [nb.TEAM_TRAIN_FILE])[-1] == nb.TEAM_TRAIN_FILE
    assert nb.TEAM_TRAIN_FILE not in task_files("offensive", {}, [nb.TEAM_TRAIN_FILE])


def test_relative_paths_start_at_the_repository_root(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    assert nb.repo_path("../shared/data") == root / "../shared/data"
    assert nb.repo_path(tmp_path) == tmp_path
