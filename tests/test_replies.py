"""Saved replies: the sandboxed renderer, Sie/du per brand, seeding on init, `replies list`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.guidance.replies import list_replies, seed_shipped_replies
from monitor.guidance.shipped_replies import SHIPPED_REPLIES
from monitor.guidance.templates import PLACEHOLDERS, TemplateError, placeholders, render
from monitor.guidance.tone import Tone, other_form
from monitor.settings import ConfigError, load_settings
from monitor.storage.database import Database
from monitor.storage.models import SavedReply
from tests.conftest import write_config, write_toml

runner = CliRunner()
VALUES = {
    "name": "@pendlerin_ffm",
    "ticket": "DB-2026-118843",
    "brand": "Deutsche Bahn",
    "agent": "/jk",
}


def test_render_fills_plain_placeholders_and_keeps_literal_braces() -> None:
    template = "Hallo {name}, Ihr Vorgang {ticket} liegt bei {brand}. {{Team}} {agent}"
    assert render(template, VALUES) == (
        "Hallo @pendlerin_ffm, Ihr Vorgang DB-2026-118843 liegt bei Deutsche Bahn. {Team} /jk"
    )
    assert placeholders(template) == ["name", "ticket", "brand", "agent"]


def test_an_unknown_placeholder_is_an_error_naming_it() -> None:
    with pytest.raises(TemplateError, match=r"unbekannter Platzhalter \{kundennummer\}"):
        render("Hallo {name}, Ihre Nummer ist {kundennummer}.", VALUES)


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("Hallo {name.__class__}", "{name.__class__}"),
        ("Hallo {name[0]}", "{name[0]}"),
        ("Hallo {name!r}", "{name!r}"),
        ("Hallo {name:>9999}", "{name:>9999}"),
        ("Hallo {}", "{}"),
        ("Hallo {0}", "{0}"),
    ],
)
def test_only_plain_names_are_allowed(template: str, named: str) -> None:
    with pytest.raises(TemplateError, match="nicht erlaubt") as error:
        render(template, VALUES)
    assert named in str(error.value)


def test_a_missing_value_and_a_lone_brace_are_errors() -> None:
    with pytest.raises(TemplateError, match=r"kein Wert für Platzhalter \{ticket\}"):
        render("Vorgang {ticket}", {"name": "Anna"})
    with pytest.raises(TemplateError, match="geschweifte Klammer"):
        render("Hallo {name", VALUES)


@pytest.mark.parametrize("reply", SHIPPED_REPLIES, ids=lambda r: f"{r.category}-{r.tone}-{r.title}")
def test_shipped_replies_render_in_their_tone_and_fit_on_x(reply) -> None:
    assert set(placeholders(reply.body)) <= set(PLACEHOLDERS)
    text = render(reply.body, VALUES)
    assert other_form(text, reply.tone) == []
    assert len(text) <= 280


def test_every_category_ships_a_reply_in_sie_and_du() -> None:
    pairs = {(reply.category, reply.tone) for reply in SHIPPED_REPLIES}
    categories = {reply.category for reply in SHIPPED_REPLIES}
    assert pairs == {(category, tone) for category in categories for tone in Tone}
    assert len(categories) == 6


def test_brand_tone_defaults_to_sie_and_accepts_only_sie_or_du(tmp_path: Path) -> None:
    brands = [{"name": "Telekom", "tone": "du"}, {"name": "DHL"}]
    settings = load_settings(write_toml(tmp_path / "ok.toml", {"brands": brands}))
    assert [brand.tone for brand in settings.brands] == ["du", "sie"]
    bad = write_toml(tmp_path / "bad.toml", {"brands": [{"name": "DHL", "tone": "ihr"}]})
    with pytest.raises(ConfigError, match=r"brands\.0\.tone"):
        load_settings(bad)


def test_init_seeds_the_shipped_replies_once(tmp_path: Path, db_url: str) -> None:
    env = {"RUFWACHT_STORAGE__URL": db_url}
    config = tmp_path / "rufwacht.toml"
    first = runner.invoke(app, ["init", "--config", str(config)], env=env)
    assert first.exit_code == 0, first.output
    assert f"Stored {len(SHIPPED_REPLIES)} shipped saved replies." in first.stdout

    again = runner.invoke(app, ["init", "--config", str(config), "--force"], env=env)
    assert again.exit_code == 0, again.output
    assert "shipped saved replies" not in again.stdout
    db = Database(db_url)
    with db.transaction() as session:
        assert len(list_replies(session)) == len(SHIPPED_REPLIES)
    db.dispose()


def test_seeding_leaves_a_table_with_replies_alone(db: Database) -> None:
    with db.transaction() as session:
        session.add(
            SavedReply(brand="DHL", category="praise", tone="sie", title="Eigen", body="Danke!")
        )
    with db.transaction() as session:
        assert seed_shipped_replies(session) == 0
        assert [reply.title for reply in list_replies(session)] == ["Eigen"]


def test_replies_list_by_brand_shows_its_own_and_shared_replies_in_its_tone(
    tmp_path: Path, db_url: str
) -> None:
    config = write_config(tmp_path / "rufwacht.toml", db_url)
    config.write_text(
        config.read_text("utf-8").replace('name = "Telekom"', 'name = "Telekom"\ntone = "du"'),
        encoding="utf-8",
    )
    db = Database(db_url)
    db.migrate()
    with db.transaction() as session:
        seed_shipped_replies(session)
        session.add(
            SavedReply(
                brand="Telekom",
                category="complaint",
                tone="du",
                title="Störung im Festnetz",
                body="Hey {name}, danke dir! Wir prüfen deinen Anschluss. {agent}",
            )
        )
    db.dispose()

    result = runner.invoke(
        app,
        [
            "replies",
            "list",
            "--brand",
            "Telekom",
            "--category",
            "complaint",
            "--config",
            str(config),
        ],
        terminal_width=250,
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "complaint" in line]
    assert len(rows) == 3
    assert "Störung im Festnetz" in rows[0]  # the brand's own reply first
    assert all(" du " in row for row in rows)
    assert "Erste Antwort" in result.stdout and "Zwischenstand" in result.stdout

    everything = runner.invoke(
        app, ["replies", "list", "--config", str(config)], terminal_width=250
    )
    assert everything.exit_code == 0, everything.output
    assert " sie " in everything.stdout and "alle" in everything.stdout

    unknown = runner.invoke(app, ["replies", "list", "--brand", "Bahn", "--config", str(config)])
    assert unknown.exit_code == 2
    assert "unknown brand 'Bahn'" in unknown.stderr
