"""The model registry: versions, promotion with its checks, rollback, and a running service
that follows the champion without a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from classifiers.model_registry import (
    PromotionRefused,
    Registry,
    RegistryError,
    register_version,
)
from monitor.cli import app
from monitor.runtime import Runtime
from monitor.settings import Settings
from monitor.storage.database import Database
from monitor.storage.models import PostRecord
from tests import factories
from tests.conftest import write_config
from tests.registry_models import (
    TOLERANCE,
    bundled_figures,
    card,
    fast_registry,
    runtime_on,
    trained_model,
)

runner = CliRunner()


def test_an_unwritten_registry_serves_the_bundled_models(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models")
    assert {"e5-multitask-1.1", "ngram-sentiment-1.0", "triage-2.0"} <= set(registry.versions())
    assert registry.champion("sentiment").name == "e5-multitask-1.1"
    assert registry.champion("offensive").name == "e5-multitask-1.1"
    assert registry.champion("triage").name == "triage-2.0"
    assert registry.version("ngram-sentiment-1.0").metrics("sentiment")["germeval2017_test.tsv"]
    assert not (tmp_path / "models").exists()  # reading writes nothing


def test_a_registered_version_is_an_immutable_folder_with_its_card(tmp_path: Path) -> None:
    registry = fast_registry(tmp_path / "models")
    model = trained_model(tmp_path, "ngram-sentiment-1.1")

    name = register_version(
        registry.root, "sentiment", model, card(bundled_figures("ngram-sentiment"))
    )

    folder = tmp_path / "models" / "versions" / name
    assert name == "ngram-sentiment-1.1"
    assert (folder / "model" / "model.safetensors").is_file()
    written = json.loads((folder / "card.json").read_text("utf-8"))
    assert written["parent"] == "ngram-sentiment-1.0"
    assert written["tasks"] == ["sentiment"]
    assert written["training_command"].startswith("python -m classifiers.training")
    assert written["metrics"]["sentiment"]["germeval2017_test.tsv"]["macro_f1"] > 0
    # the bundled versions got cards that point at the package, nothing copied
    bundled = tmp_path / "models" / "versions" / "e5-multitask-1.1"
    assert json.loads((bundled / "card.json").read_text("utf-8"))["bundled"] == "e5-multitask"
    assert not (bundled / "model").exists()
    with pytest.raises(RegistryError, match="already exists; versions never change"):
        register_version(registry.root, "sentiment", model, card({}))
    assert registry.aliases("sentiment").champion == "ngram-sentiment-1.0"  # not yet promoted


def test_registering_creates_a_missing_registry_but_refuses_a_wrong_path_or_broken_model(
    tmp_path: Path,
) -> None:
    model = trained_model(tmp_path, "ngram-sentiment-1.1")
    other = trained_model(tmp_path, "ngram-sentiment-1.2")
    with pytest.raises(RegistryError, match=r"cannot create the model registry .*does not exist"):
        register_version(tmp_path / "fehlt" / "models", "sentiment", other, card({}))
    assert register_version(tmp_path / "neu", "sentiment", other, card({})) == "ngram-sentiment-1.2"
    assert Registry(tmp_path / "neu").aliases("sentiment").champion == "e5-multitask-1.1"
    registry = fast_registry(tmp_path / "models")
    with pytest.raises(RegistryError, match="unknown task 'troll'"):
        register_version(registry, "troll", model, card({}))
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(RegistryError, match="does not load"):
        register_version(registry, "sentiment", model, card({}))


def test_promoting_a_worse_model_is_refused_and_force_is_recorded_with_its_reason(
    tmp_path: Path,
) -> None:
    registry = fast_registry(tmp_path / "models")
    worse = card(bundled_figures("ngram-sentiment"), change=-0.02)
    register_version(registry, "sentiment", trained_model(tmp_path, "ngram-sentiment-0.9"), worse)

    with pytest.raises(PromotionRefused, match=r"germeval2017_test.tsv macro_f1 0\.47\d+ < 0\.49"):
        registry.promote("ngram-sentiment-0.9", "sentiment", TOLERANCE)
    assert registry.aliases("sentiment").champion == "ngram-sentiment-1.0"
    with pytest.raises(RegistryError, match="--force needs --reason"):
        registry.promote("ngram-sentiment-0.9", "sentiment", TOLERANCE, force=True)

    reason = "Kontrastsatz wichtiger als GermEval"
    registry.promote("ngram-sentiment-0.9", "sentiment", TOLERANCE, force=True, reason=reason)

    assert registry.aliases("sentiment").champion == "ngram-sentiment-0.9"
    last = registry.history("sentiment")[-1]
    assert last["action"] == "promote" and last["version"] == "ngram-sentiment-0.9"
    assert last["forced"] is True and last["reason"] == reason
    assert last["replaced"] == "ngram-sentiment-1.0"
    assert {w["dataset"] for w in last["worse"]} == set(bundled_figures("ngram-sentiment"))


def test_within_the_tolerance_promotes_and_rollback_restores_the_old_champion(
    tmp_path: Path,
) -> None:
    registry = fast_registry(tmp_path / "models")
    slightly = card(bundled_figures("ngram-sentiment"), change=-0.004)
    register_version(
        registry, "sentiment", trained_model(tmp_path, "ngram-sentiment-1.1"), slightly
    )

    assert registry.promote("ngram-sentiment-1.1", "sentiment", TOLERANCE) == []
    assert registry.champion("sentiment").name == "ngram-sentiment-1.1"

    assert registry.rollback("sentiment", reason="Beschwerden des Teams") == "ngram-sentiment-1.0"
    assert registry.champion("sentiment").name == "ngram-sentiment-1.0"
    assert registry.history("sentiment")[-1]["reason"] == "Beschwerden des Teams"
    assert registry.rollback("sentiment") == "e5-multitask-1.1"  # the one before the tests'
    with pytest.raises(RegistryError, match="no earlier sentiment champion"):
        registry.rollback("sentiment")


def test_clear_errors_for_unknown_versions_wrong_tasks_and_broken_cards(tmp_path: Path) -> None:
    registry = fast_registry(tmp_path / "models")
    with pytest.raises(RegistryError, match=r"unknown model version 'ngram-sentiment-7'.*known:"):
        registry.promote("ngram-sentiment-7", "sentiment", TOLERANCE)
    with pytest.raises(RegistryError, match=r"ngram-offensive-1\.0 is a model for offensive, not"):
        registry.promote("ngram-offensive-1.0", "sentiment", TOLERANCE)
    with pytest.raises(RegistryError, match="unknown task 'spam'"):
        registry.promote("ngram-offensive-1.0", "spam", TOLERANCE)
    broken = tmp_path / "models" / "versions" / "kaputt-1.0"
    broken.mkdir()
    (broken / "card.json").write_text("{nicht json", "utf-8")
    with pytest.raises(RegistryError, match=r"broken card .*kaputt-1.0/card.json"):
        registry.promote("kaputt-1.0", "sentiment", TOLERANCE)
    assert any("kaputt-1.0" in problem for problem in registry.scan().problems)
    with pytest.raises(RegistryError, match=r"folder .* does not exist"):
        Registry(tmp_path / "fehlt" / "models").promote("ngram-sentiment-1.0", "sentiment", 0.0)


def test_after_an_upgrade_a_bundled_champion_of_the_old_release_follows_the_new_one(
    tmp_path: Path,
) -> None:
    registry = Registry(tmp_path / "models")
    shipped = registry.champion("sentiment").name
    old = tmp_path / "models" / "versions" / "e5-multitask-0.9"  # what an earlier release wrote
    old.mkdir(parents=True)
    bundled_card = {"model_version": old.name, "tasks": ["offensive", "sentiment"]}
    (old / "card.json").write_text(json.dumps({**bundled_card, "bundled": "e5-multitask"}))
    aliases = {"sentiment": {"champion": old.name, "previous": []}}
    (tmp_path / "models" / "aliases.json").write_text(json.dumps(aliases))

    assert registry.champion("sentiment").name == shipped  # not the new files under an old name
    assert old.name not in registry.versions()
    assert any("shipped by an earlier release" in p for p in registry.scan().problems)
    with pytest.raises(RegistryError, match=rf"{old.name} was shipped by an earlier release"):
        registry.version(old.name)


def test_the_cli_promotes_refuses_forces_and_rolls_back(tmp_path: Path, db_url: str) -> None:
    config = write_config(tmp_path / "rufwacht.toml", db_url)
    fast_registry(tmp_path / "models")
    worse = card(bundled_figures("ngram-sentiment"), change=-0.05)
    register_version(
        tmp_path / "models", "sentiment", trained_model(tmp_path, "ngram-sentiment-0.5"), worse
    )
    args = ["models", "promote", "ngram-sentiment-0.5", "--task", "sentiment", "-c", str(config)]

    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "worse than the sentiment champion ngram-sentiment-1.0" in refused.output

    forced = runner.invoke(app, [*args, "--force", "--reason", "Notfall: Test"])
    assert forced.exit_code == 0, forced.output
    assert "ngram-sentiment-0.5 is now the sentiment champion" in forced.output
    listed = runner.invoke(app, ["models", "list", "-c", str(config)])
    assert "ngram-sentiment-0.5  (registered" in listed.output
    history = runner.invoke(app, ["models", "history", "--task", "sentiment", "-c", str(config)])
    assert '"reason": "Notfall: Test"' in history.output

    back = runner.invoke(app, ["models", "rollback", "--task", "sentiment", "-c", str(config)])
    assert back.exit_code == 0, back.output
    assert "ngram-sentiment-1.0 is the sentiment champion again" in back.output


def judge_one(runtime: Runtime, text: str) -> dict[str, str]:
    """Store and judge one post as the pipeline does; its scores' model_version per task."""
    with runtime.database.transaction() as session:
        post = factories.stored_post(text)
        session.add(post)
        session.flush()
        runtime.pipeline.analyse(session, [post])
        stored = session.get_one(PostRecord, post.id)
        return {score.task: score.model_version for score in stored.scores}


def test_a_running_service_switches_to_a_new_champion_without_restart(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    registry = fast_registry(tmp_path / "models")
    runtime = runtime_on(settings, db, registry)
    assert judge_one(runtime, factories.COMPLAINT)["sentiment"] == "ngram-sentiment-1.0"
    judge, checker = runtime.judge, runtime.draft_checker

    same = card(bundled_figures("ngram-sentiment"))
    register_version(registry, "sentiment", trained_model(tmp_path, "ngram-sentiment-1.1"), same)
    offensive = card(bundled_figures("ngram-offensive"))
    new_offensive = trained_model(tmp_path, "ngram-offensive-1.1", "ngram-offensive")
    register_version(registry, "offensive", new_offensive, offensive)
    registry.promote("ngram-sentiment-1.1", "sentiment", TOLERANCE)
    registry.promote("ngram-offensive-1.1", "offensive", TOLERANCE)

    versions = judge_one(runtime, "@DB_Bahn schon wieder Verspätung, unfassbar")
    assert versions["sentiment"] == "ngram-sentiment-1.1"
    assert versions["offensive"] == "ngram-offensive-1.1"
    assert runtime.judge is judge  # the same service, no restart
    assert runtime.draft_checker is not checker
    assert runtime.draft_checker.offensive.model_version == "ngram-offensive-1.1"

    registry.rollback("sentiment")
    assert (
        judge_one(runtime, "Telekom: kein Netz seit Stunden")["sentiment"] == "ngram-sentiment-1.0"
    )
    with runtime.database.transaction() as session:
        posts = session.scalars(select(PostRecord).order_by(PostRecord.id)).all()
        said = [{s.model_version for s in post.scores if s.task == "sentiment"} for post in posts]
    # what each model said stays with its version
    assert said == [{"ngram-sentiment-1.0"}, {"ngram-sentiment-1.1"}, {"ngram-sentiment-1.0"}]


def test_a_pinned_spec_ignores_the_registry(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    registry = fast_registry(tmp_path / "models")
    classifiers = settings.classifiers.model_copy(update={"sentiment": "ngram-sentiment"})
    models = settings.models.model_copy(update={"registry": str(registry.root)})
    update = {"classifiers": classifiers, "models": models}
    runtime = Runtime(settings.model_copy(update=update), db)
    register_version(
        registry,
        "sentiment",
        trained_model(tmp_path, "ngram-sentiment-1.1"),
        card(bundled_figures("ngram-sentiment")),
    )
    registry.promote("ngram-sentiment-1.1", "sentiment", TOLERANCE)
    assert judge_one(runtime, factories.COMPLAINT)["sentiment"] == "ngram-sentiment-1.0"


def test_a_champion_that_does_not_load_leaves_the_old_models_judging(
    settings: Settings, db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = fast_registry(tmp_path / "models")
    runtime = runtime_on(settings, db, registry)
    judge_one(runtime, factories.COMPLAINT)
    register_version(
        registry,
        "sentiment",
        trained_model(tmp_path, "ngram-sentiment-1.1"),
        card(bundled_figures("ngram-sentiment")),
    )
    weights = registry.root / "versions" / "ngram-sentiment-1.1" / "model" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])  # damaged on disk
    aliases_file = registry.root / "aliases.json"  # and made champion by hand
    aliases = json.loads(aliases_file.read_text("utf-8"))
    aliases["sentiment"]["champion"] = "ngram-sentiment-1.1"
    aliases_file.write_text(json.dumps(aliases), "utf-8")

    assert (
        judge_one(runtime, "@DHLPaket wo bleibt mein Paket")["sentiment"] == "ngram-sentiment-1.0"
    )
    assert "new champion does not load" in caplog.text
