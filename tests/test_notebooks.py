"""The notebooks run headless on a small sample (`SAMPLE=200 make notebooks` runs this file) and
write what a data scientist relies on: a new registry version with a card the promotion can
compare, figures, and no author handle in what the explore notebook shows. The notebooks in
git carry no outputs.

Every run uses a scratch registry and one seeded SQLite database whose reviewer decisions are
exported as the team's labels. `SAMPLE` (default 200) and `NOTEBOOKS_OUT` (default: a
temporary folder) come from the environment. The e5 notebook is the slow one (minutes).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import nbformat
import pytest

from classifiers.model_registry import Registry
from classifiers.training.notebook_support import TEAM_HELDOUT_SET
from monitor.labels_export import export_labels
from monitor.pseudonyms import Pseudonymiser
from monitor.queue.labels import add_label
from monitor.storage.database import Database
from scripts.notebooks import NOTEBOOKS, dirty, execute
from tests import factories
from tests.conftest import SHARED_DATA, migrated_sqlite_url, missing_prerequisite

SAMPLE = int(os.environ.get("SAMPLE") or 200)
SLOW = pytest.mark.timeout(1800)
"""Minutes on a busy 2-core machine: above the suite's 600 s per test."""
SALT = "ein-geheimes-salz-nur-fuer-notebooks"
HANDLE = "bahn_wutbuerger_77"
"""The most active author's handle: the explore notebook must never show it."""

POSTS = [
    # text, sentiment the model said, what the team said, category
    ("@DB_Bahn Ich bin so genervt, Zug {i} schon wieder weg.", "neutral", "negative", "complaint"),
    (
        "@Telekom_hilft doppelt abgerechnet und keiner hilft, Vertrag {i}",
        "neutral",
        "negative",
        "complaint",
    ),
    ("@DB_Bahn Danke, Zug {i} war heute pünktlich, super!", "positive", "positive", "praise"),
    ("@DB_Bahn Fährt der ICE {i} heute ab Gleis 7?", "neutral", "neutral", "question"),
    ("@DB_Bahn Ihr seid alle unfähige Idioten, Zug {i}!!!", "negative", "negative", "troll"),
]


def seed(db: Database) -> None:
    """Four days of posts: one loud author, brands, keywords, scores, verdicts, queue items,
    and an agent's decisions on every queued post."""
    with db.transaction() as session:
        agent = factories.user("anna.agentin")
        loud = factories.author_record(handle=HANDLE, key="4711")
        session.add(agent)
        for i in range(8):
            for n, (text, said, truth, category) in enumerate(POSTS):
                post = factories.stored_post(
                    text.format(i=i),
                    created_at=factories.T0 + timedelta(days=i % 4, minutes=n),
                    author=loud if n == 4 else factories.author_record(),
                    matched_keywords=["unzumutbar"] if truth == "negative" else [],
                )
                factories.score(post, "sentiment", label=said, model_version="e5-multitask-1.1")
                factories.score(post, "offensive", label="other", model_version="e5-multitask-1.1")
                factories.score(post, "troll", model_version="troll-1.2")
                session.add(factories.verdict(post, category=category))
                item = factories.queue_item(post, category=category)
                session.add(item)
                session.flush()
                add_label(session, agent, item, "sentiment", truth)
                add_label(session, agent, item, "category", category)
                add_label(session, agent, item, "troll", "troll" if n == 4 else "not_troll")
                add_label(session, agent, item, "offensive", "offensive" if n == 4 else "other")


@dataclass(frozen=True)
class Workspace:
    folder: Path
    labels: Path
    registry: Path
    db_url: str


@pytest.fixture(scope="module")
def workspace(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A seeded database, its exported labels, an empty registry and an output folder."""
    folder = Path(os.environ.get("NOTEBOOKS_OUT") or tmp_path_factory.mktemp("notebooks"))
    for earlier in ("models", "work", "figures"):  # a scratch folder reused: start afresh
        shutil.rmtree(folder / earlier, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    url = migrated_sqlite_url(sqlite_template, tmp_path_factory.mktemp("db"))
    db = Database(url)
    seed(db)
    labels = folder / "labels.jsonl"
    with db.transaction() as session:
        assert export_labels(session, labels, Pseudonymiser(SALT)) == 8 * 5 * 4
    db.dispose()
    registry = folder / "models"
    registry.mkdir(exist_ok=True)
    return Workspace(folder, labels, registry, url)


def run(workspace: Workspace, name: str, **parameters: object) -> Path:
    """Execute `notebooks/NAME.ipynb` into the output folder; its figures folder."""
    folder = workspace.folder
    figures = folder / "figures" / name
    execute(
        NOTEBOOKS / f"{name}.ipynb",
        folder / f"{name}.ipynb",
        {"FIGURES": str(figures), **parameters},
        timeout=1800,
    )
    return figures


def retraining(workspace: Workspace) -> dict[str, object]:
    """The retraining notebooks' parameters: the public data, the team's labels, scratch."""
    if not (SHARED_DATA / "sentiment" / "eval").is_dir():
        missing_prerequisite(f"the public training data {SHARED_DATA} is not available")
    return {
        "DATA_DIR": str(SHARED_DATA),
        "SAMPLE": SAMPLE,
        "LABELS": str(workspace.labels),
        "REGISTRY": str(workspace.registry),
        "WORK_DIR": str(workspace.folder / "work"),
    }


def new_version(workspace: Workspace, stem: str) -> dict:
    """The card of the one version the notebook registered under `stem`."""
    names = [n for n in Registry(workspace.registry).versions() if n.startswith(f"{stem}-")]
    made = [n for n in names if n.endswith(f"-sample{SAMPLE}")]
    assert len(made) == 1, names
    card_path = workspace.registry / "versions" / made[0] / "card.json"
    return json.loads(card_path.read_text("utf-8"))


def test_notebooks_in_git_carry_no_outputs() -> None:
    found = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {p.name for p in found} >= {
        "retrain_sentiment.ipynb",
        "retrain_triage.ipynb",
        "explore_mentions.ipynb",
        "train_ngram.ipynb",
    }
    for path in found:
        notebook = nbformat.read(path, as_version=4)
        assert dirty(notebook) == [], path.name
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: one cell tagged 'parameters'"


def test_explore_draws_every_figure_and_shows_no_handle(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUFWACHT_LABELS_SALT", SALT)
    figures = run(workspace, "explore_mentions", DATABASE_URL=workspace.db_url, SINCE="2026-11-01")
    assert {p.name for p in figures.glob("*.png")} == {
        "volume.png",
        "brands.png",
        "sentiment.png",
        "categories.png",
        "keywords.png",
        "model_versions.png",
    }
    shown = (workspace.folder / "explore_mentions.ipynb").read_text("utf-8")
    assert HANDLE not in shown
    assert shown.count('"image/png"') == 6  # every chart shown in the notebook itself
    assert Pseudonymiser(SALT).author("twitter", "4711") in shown  # the loud author, first
    assert "40 posts on 4 days" in shown


@SLOW
def test_retrain_triage_registers_a_version_comparable_with_the_champion(
    workspace: Workspace,
) -> None:
    figures = run(workspace, "retrain_triage", **retraining(workspace))
    card = new_version(workspace, "triage")
    champion = Registry(workspace.registry).champion("triage")
    assert card["parent"] == champion.name
    metrics = card["metrics"]["triage"]
    assert set(champion.metrics("triage")) <= set(metrics)  # every set the champion has
    assert metrics[TEAM_HELDOUT_SET]["n"] > 0
    assert "troll_f1" in metrics["team_troll"]
    assert card["sample"] == SAMPLE and card["data"]["team_labels"] > 0
    assert "retrain_triage.ipynb" in card["training_command"]
    assert any(p.name.startswith("confusion-triage-") for p in figures.glob("*.png"))
    assert any(p.name.startswith("reliability-triage-") for p in figures.glob("*.png"))


@SLOW
def test_train_ngram_registers_both_tasks(workspace: Workspace) -> None:
    run(workspace, "train_ngram", **retraining(workspace))
    for task, stem in (("sentiment", "ngram-sentiment"), ("offensive", "ngram-offensive")):
        card = new_version(workspace, stem)
        metrics = card["metrics"][task]
        champion = Registry(workspace.registry).champion(task)
        shared = set(metrics) & set(champion.metrics(task))
        assert shared and all("macro_f1" in metrics[name] for name in shared)
        assert metrics[TEAM_HELDOUT_SET]["n"] > 0
        assert card["data"]["team_labels"] > 0


@SLOW
def test_retrain_sentiment_registers_both_heads(workspace: Workspace) -> None:
    figures = run(workspace, "retrain_sentiment", **retraining(workspace), THREADS=2)
    card = new_version(workspace, "e5-multitask")
    registry = Registry(workspace.registry)
    assert card["tasks"] == ["sentiment", "offensive"]
    assert card["parent"] == registry.champion("sentiment").name
    for task in ("sentiment", "offensive"):
        metrics = card["metrics"][task]
        assert set(registry.champion(task).metrics(task)) <= set(metrics)
        assert all(isinstance(f["macro_f1"], float) for f in metrics.values())
    assert card["metrics"]["sentiment"][TEAM_HELDOUT_SET]["n"] > 0
    assert card["data"]["team_labels"]["sentiment"] > 0
    assert "retrain_sentiment.ipynb" in card["training_command"]
    names = {p.name for p in figures.glob("*.png")}
    assert f"reliability-sentiment-{TEAM_HELDOUT_SET}.png" in names
    assert "confusion-offensive-germeval2018_test.tsv.png" in names
