"""One turn of the retraining loop, small and fast: the team's decisions are exported, a model
is trained on them plus a public sample, registered, promoted only on held-out figures, and
the running service judges with it without a restart; rollback brings the old one back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.model_registry import PromotionRefused, Registry, register_version
from classifiers.ngram import FeaturiserConfig
from classifiers.training.team_labels import read_team_labels, write_labelled_tsv
from classifiers.training.train_ngram import TaskPlan, _grid, train_task
from monitor.labels_export import export_labels
from monitor.pseudonyms import Pseudonymiser
from monitor.queue.labels import add_label
from monitor.runtime import Runtime
from monitor.settings import Settings
from monitor.storage.database import Database
from monitor.storage.models import PostRecord
from tests import factories
from tests.registry_models import TOLERANCE, fast_registry, runtime_on

PUBLIC = {
    "negative": "Mist, der Zug {i} ist schon wieder zu spät, so ärgerlich!",
    "neutral": "Der Zug {i} fährt heute von Gleis {i}.",
    "positive": "Danke, der Zug {i} war super pünktlich, toll!",
}
"""A stand-in for the public training data: three kinds of post, numbered."""
TEAM = [
    ("@DB_Bahn Ich bin so genervt, Zug {i} wieder weg.", "negative"),
    ("@Telekom_hilft doppelt abgerechnet und keiner hilft, Vertrag {i}", "negative"),
]
"""Plain complaints the team corrected (the contrast the e5 1.2 run is about)."""


def public_rows(numbers: range) -> list[tuple[str, str]]:
    return [(text.format(i=i), label) for i in numbers for label, text in PUBLIC.items()]


def seed_team_decisions(db: Database) -> None:
    """Queued posts the models called neutral, corrected by an agent to negative."""
    with db.transaction() as session:
        agent = factories.user("anna.agentin")
        session.add(agent)
        for i in range(6):
            for text, _label in TEAM:
                post = factories.stored_post(text.format(i=i))
                factories.score(post, "sentiment", label="neutral", model_version="old-1")
                item = factories.queue_item(post)
                session.add(item)
                session.flush()
                add_label(session, agent, item, "sentiment", "negative")


def plan(version: str, files: tuple[str, ...]) -> TaskPlan:
    return TaskPlan(
        task="sentiment",
        name="tiny-sentiment",
        version=version,
        dev_file="dev.tsv",
        eval_files=("heldout.tsv",),
        candidates=_grid(
            files=[tuple((name, 1.0) for name in files)],
            featurisers=[FeaturiserConfig(char_bits=10, word_bits=10)],
            cs=[10.0],
            class_weights=[None],
        ),
        offsets=((0.0, 0.0, 0.0),),
        criterion="micro_f1",
    )


def train_and_register(registry: Registry, data: Path, version: str, *files: str) -> str:
    """What a retraining notebook does after loading its data: train, then one call."""
    out = data.parent / "out" / version
    config = train_task(plan(version, files), data, out)
    card = {
        "metrics": config["eval"],
        "data": {name: figures["rows_used"] for name, figures in config["training"].items()},
        "training_command": f"train_task(plan({version!r}, {files!r}))",
    }
    return register_version(registry, "sentiment", out, card)


def judged_with(runtime: Runtime, text: str) -> str:
    with runtime.database.transaction() as session:
        post = factories.stored_post(text)
        session.add(post)
        session.flush()
        runtime.pipeline.analyse(session, [post])
        scores = session.get_one(PostRecord, post.id).scores
        return next(score.model_version for score in scores if score.task == "sentiment")


def test_labels_to_training_to_promotion_to_serving_and_back(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    seed_team_decisions(db)
    exported = tmp_path / "labels.jsonl"
    with db.transaction() as session:
        salt = Pseudonymiser("ein-geheimes-salz-nur-fuer-tests")
        assert export_labels(session, exported, salt, task="sentiment") == 12
    data = tmp_path / "data"
    write_labelled_tsv(data / "sentiment" / "train" / "public.tsv", public_rows(range(30)))
    write_labelled_tsv(data / "sentiment" / "train" / "dev.tsv", public_rows(range(50, 56)))
    write_labelled_tsv(
        data / "sentiment" / "train" / "team.tsv", read_team_labels(exported, "sentiment")
    )
    held_out = public_rows(range(100, 104)) + [(t.format(i=99), lab) for t, lab in TEAM]
    write_labelled_tsv(data / "sentiment" / "eval" / "heldout.tsv", held_out)

    registry = fast_registry(tmp_path / "models")
    runtime = runtime_on(settings, db, registry)
    judged_with(runtime, factories.COMPLAINT)  # the service is running

    first = train_and_register(registry, data, "tiny-sentiment-1.0", "public.tsv")
    with pytest.raises(PromotionRefused, match="shares no held-out sentiment set"):
        registry.promote(first, "sentiment", TOLERANCE)
    registry.promote(first, "sentiment", TOLERANCE, force=True, reason="erstes Modell auf heldout")
    assert judged_with(runtime, "@DB_Bahn Zug 7 fällt aus") == "tiny-sentiment-1.0"

    second = train_and_register(registry, data, "tiny-sentiment-1.1", "public.tsv", "team.tsv")
    card = json.loads((registry.root / "versions" / second / "card.json").read_text("utf-8"))
    assert card["parent"] == "tiny-sentiment-1.0"
    assert card["data"]["team.tsv"] == 12  # every exported decision trained the model
    assert registry.promote(second, "sentiment", TOLERANCE) == []  # not worse anywhere
    assert judged_with(runtime, "@DB_Bahn Ich bin so genervt.") == "tiny-sentiment-1.1"

    registry.rollback("sentiment")
    assert judged_with(runtime, "@DB_Bahn Zug 8 fällt aus") == "tiny-sentiment-1.0"


def test_disputed_posts_are_left_out_unless_a_majority_decides(tmp_path: Path) -> None:
    def line(post: str, label: str, disputed: bool) -> str:
        record = {
            "task": "sentiment",
            "label": label,
            "disagreement": disputed,
            "post": {"id": post, "text": f"Text\tvon {post}"},
        }
        return json.dumps(record)

    exported = tmp_path / "labels.jsonl"
    lines = [
        line("p-1", "negative", False),
        *(line("p-2", label, True) for label in ("negative", "neutral")),
        *(line("p-3", label, True) for label in ("positive", "positive", "neutral")),
    ]
    exported.write_text("\n".join(lines) + "\n", "utf-8")

    assert read_team_labels(exported, "sentiment") == [("Text\tvon p-1", "negative")]
    assert read_team_labels(exported, "sentiment", keep_disputed=True) == [
        ("Text\tvon p-1", "negative"),
        ("Text\tvon p-3", "positive"),
    ]
    assert read_team_labels(exported, "troll") == []
    write_labelled_tsv(tmp_path / "team.tsv", read_team_labels(exported, "sentiment"))
    assert (tmp_path / "team.tsv").read_text("utf-8") == "text\tlabel\nText von p-1\tnegative\n"
