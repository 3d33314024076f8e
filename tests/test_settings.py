"""The config file means what the example and the README say: omitted keys, paths, overrides."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.settings import example_config, load_settings
from tests.conftest import write_toml

runner = CliRunner()

Key = tuple[str, ...]
EXAMPLE = {key: value for key, value in example_config().items() if key != "brands"}
"""What the example file documents as defaults (its brands are only an example)."""


def key_paths(table: dict[str, Any], above: Key = ()) -> Iterator[Key]:
    """Every table and key of a parsed TOML document, outermost first."""
    for key, value in table.items():
        yield (*above, key)
        if isinstance(value, dict):
            yield from key_paths(value, (*above, key))


def leaves(table: dict[str, Any], above: Key = ()) -> Iterator[tuple[Key, Any]]:
    for key, value in table.items():
        if isinstance(value, dict):
            yield from leaves(value, (*above, key))
        else:
            yield (*above, key), value


def without(table: dict[str, Any], path: Key) -> dict[str, Any]:
    trimmed = copy.deepcopy(table)
    parent = trimmed
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return trimmed


def at(dumped: dict[str, Any], path: Key) -> Any:
    for key in path:
        dumped = dumped[key]
    return dumped


@pytest.mark.parametrize("omitted", list(key_paths(EXAMPLE)), ids=".".join)
def test_an_omitted_key_means_the_value_the_example_shows(tmp_path: Path, omitted: Key) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", without(EXAMPLE, omitted))
    dumped = load_settings(config).model_dump()
    for path, shown in leaves(EXAMPLE):
        if path[: len(omitted)] != omitted:
            continue
        if path == ("storage", "url"):  # the example's relative file lies beside the config
            shown = f"sqlite:///{tmp_path / 'rufwacht.db'}"
        if path == ("models", "registry"):  # so is the model registry
            shown = str(tmp_path / "models")
        assert at(dumped, path) == shown, ".".join(path)


def test_a_file_without_brands_has_none_not_the_examples(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", {"sla": {"state": "BY"}})
    assert load_settings(config).brands == []


def test_environment_overrides_nested_keys_and_lists_and_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_toml(
        tmp_path / "rufwacht.toml",
        {
            "sla": {"max_hours": 8},
            "flagging": {"troll_threshold": 0.7},
            "keywords": {"negative": ["mies"]},
        },
    )
    monkeypatch.setenv("RUFWACHT_SLA__MAX_HOURS", "4")
    monkeypatch.setenv("RUFWACHT_KEYWORDS__NEGATIVE", '["kaputt*", "nie wieder"]')
    monkeypatch.setenv("RUFWACHT_SOURCES__REDDIT__SUBREDDITS", '["r/berlin"]')
    monkeypatch.setenv("RUFWACHT_STORAGE__URL", "sqlite:////srv/rufwacht/data.db")
    settings = load_settings(config)
    assert settings.sla.max_hours == 4
    assert settings.flagging.troll_threshold == 0.7
    assert settings.flagging.negative_threshold == EXAMPLE["flagging"]["negative_threshold"]
    assert settings.keywords.negative == ["kaputt*", "nie wieder"]
    assert settings.sources.reddit.subreddits == ["berlin"]
    assert settings.sources.reddit.user_agent == EXAMPLE["sources"]["reddit"]["user_agent"]
    assert settings.storage.url == "sqlite:////srv/rufwacht/data.db"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RUFWACHT_SLA__MAX_HOURS", "-1"),
        ("RUFWACHT_SOURCES__REDDIT__SUBREDDITS", '["not a subreddit"]'),
        ("RUFWACHT_KEYWORDS__NEGATIVE", "kaputt*"),
    ],
)
def test_a_bad_environment_value_is_reported_as_that_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", {"sla": {"max_hours": 8}})
    monkeypatch.setenv(variable, value)
    result = runner.invoke(app, ["queue", "list", "--config", str(config)])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {variable}: ")
    assert "rufwacht.toml" not in line


def test_an_unsupported_database_url_is_one_line_naming_the_supported_ones(
    tmp_path: Path,
) -> None:
    config = write_toml(
        tmp_path / "rufwacht.toml", {"storage": {"url": "mysql://team:geheim@db.example/ruf"}}
    )
    result = runner.invoke(app, ["queue", "list", "--config", str(config)])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert "rufwacht.toml: storage.url" in line
    assert "unsupported database" in line
    assert "sqlite:///" in line and "postgresql+psycopg://" in line
    assert "geheim" not in line


def test_a_relative_sqlite_file_lies_beside_the_config_not_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "elsewhere").mkdir()
    config = write_toml(
        tmp_path / "etc" / "rufwacht.toml", {"storage": {"url": "sqlite:///ruf.db"}}
    )
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = runner.invoke(app, ["queue", "list", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "etc" / "ruf.db").exists()
    assert not (tmp_path / "elsewhere" / "ruf.db").exists()


@pytest.mark.parametrize(
    ("workflow", "named"),
    [
        ({"max_items_per_agent": 0}, "workflow.max_items_per_agent"),
        ({"reoffer_after_minutes": -5}, "workflow.reoffer_after_minutes"),
        ({"auto_assing": True}, "workflow.auto_assing"),
        ({"auto_assign": "vielleicht"}, "workflow.auto_assign"),
    ],
)
def test_a_bad_workflow_setting_is_named(
    tmp_path: Path, workflow: dict[str, object], named: str
) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", {"workflow": workflow})
    result = runner.invoke(app, ["queue", "list", "--config", str(config)])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert f"rufwacht.toml: {named}: " in line


def test_the_model_registry_lies_beside_the_config_unless_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", {"models": {"registry": "data/models"}})
    assert load_settings(config).models.registry == str(tmp_path / "data" / "models")
    monkeypatch.setenv("RUFWACHT_MODELS__REGISTRY", "elsewhere")
    assert load_settings(config).models.registry == str(tmp_path / "elsewhere")
    monkeypatch.setenv("RUFWACHT_MODELS__REGISTRY", "/srv/rufwacht/models")
    assert load_settings(config).models.registry == "/srv/rufwacht/models"
