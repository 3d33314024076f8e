"""The `rufwacht` command line as users and other tools call it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.settings import example_config_text
from tests.conftest import write_toml

runner = CliRunner()

COMPLAINT = {
    "id": "1",
    "text": "@DB_Bahn Zug fällt schon wieder aus, zweite Stunde am Bahnsteig. Unzumutbar, wer erstattet mir das Taxi?",
    "platform": "twitter",
    "author": {
        "handle": "pendler_ffm",
        "account_age_days": 2400,
        "followers": 180,
        "posts_last_24h": 3,
    },
    "ticket": "extra fields are passed through",
}
PRAISE = {
    "id": "2",
    "text": "Vielen Dank an den DHL-Boten, Paket kam pünktlich und gut verpackt! 😊",
}


def classify(config_file: Path, lines: list[str]) -> list[dict]:
    result = runner.invoke(
        app, ["classify", "--config", str(config_file)], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_classify_adds_judgements_and_passes_other_fields_through(config_file: Path) -> None:
    complaint, praise = classify(config_file, [json.dumps(COMPLAINT), json.dumps(PRAISE)])
    assert complaint["ticket"] == "extra fields are passed through"
    assert complaint["sentiment"]["label"] == "negative"
    assert set(complaint["sentiment"]["scores"]) == {"negative", "neutral", "positive"}
    assert abs(sum(complaint["sentiment"]["scores"].values()) - 1) < 0.01
    assert complaint["matches"]["brands"] == ["Deutsche Bahn"]
    assert {"unzumutbar", "erstatt*"} <= set(complaint["matches"]["keywords"])
    assert complaint["matches"]["spans"][0] == {
        "start": 0,
        "end": 8,
        "text": "@DB_Bahn",
        "term": "@DB_Bahn",
        "kind": "brand",
        "brand": "Deutsche Bahn",
    }
    assert complaint["flagged"] is True
    assert complaint["troll"]["is_troll"] is False
    assert isinstance(complaint["troll"]["reasons"], list)
    assert complaint["model_version"]
    assert set(complaint["category"]) == {"label", "confidence", "reasons"}
    assert set(complaint["action"]) == {"label", "escalate_to", "reasons"}
    assert complaint["category"]["label"] == complaint["guideline"] == "complaint"
    assert complaint["category"]["reasons"] and complaint["action"]["reasons"]
    assert praise["sentiment"]["label"] == "positive"
    assert praise["flagged"] is False
    assert praise["category"]["label"] == praise["guideline"] == "praise"
    assert praise["action"] == {
        "label": "none",
        "escalate_to": None,
        "reasons": ["Lob: kein Handlungsbedarf"],
    }


def test_bad_lines_get_error_lines_and_the_rest_is_classified(config_file: Path) -> None:
    lines = [
        json.dumps(COMPLAINT),
        "{not json",
        json.dumps({"id": "3"}),
        "",
        json.dumps(PRAISE),
        json.dumps({"id": "4", "text": "x" * 30_000}),
    ]
    results = classify(config_file, lines)
    assert [r.get("id") for r in results] == ["1", None, None, "2", None]
    assert results[1]["line"] == 2 and "not valid JSON" in results[1]["error"]
    assert results[2]["line"] == 3 and "'text'" in results[2]["error"]
    assert results[4]["line"] == 6 and "text" in results[4]["error"]


def test_eval_prints_the_figures_as_json(tmp_path: Path, config_file: Path) -> None:
    data = tmp_path / "tiny.tsv"
    data.write_text(
        "text\tlabel\n"
        "Der Zug ist pünktlich, super Service!\tpositive\n"
        "Schon wieder Verspätung, ich bin so wütend.\tnegative\n"
        "Der Zug fährt um 8 Uhr ab.\tneutral\n",
        "utf-8",
    )
    result = runner.invoke(
        app, ["eval", "--task", "sentiment", "--data", str(data), "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["n"] == 3
    assert {"micro_f1", "macro_f1", "per_class", "posts_per_s", "model_version"} <= set(figures)
    assert set(figures["per_class"]) == {"negative", "neutral", "positive"}


def test_eval_troll_reports_troll_and_threat_precision_and_recall(
    tmp_path: Path, config_file: Path
) -> None:
    regular = {"account_age_days": 2000, "followers": 300, "posts_last_24h": 3}
    calm = {"recent_brand_posts": 1, "negative_or_offensive_share": 0.0, "near_duplicates": 0}
    cases = [
        ("Wann fährt morgen der erste Zug nach Köln?", "not_troll", False, regular, calm),
        (
            "Wenn ihr mir nicht bis Freitag 500 Euro überweist, poste ich überall, wie mies ihr seid.",
            "troll",
            True,
            {"account_age_days": 3, "followers": 2, "posts_last_24h": 60},
            {"recent_brand_posts": 30, "negative_or_offensive_share": 1.0, "near_duplicates": 25},
        ),
    ]
    data = tmp_path / "cases.jsonl"
    data.write_text(
        "".join(
            json.dumps({"text": t, "label": lab, "threat": th, "author": a, "history": h}) + "\n"
            for t, lab, th, a, h in cases
        ),
        "utf-8",
    )
    args = ["eval", "--task", "troll", "--data", str(data), "--config", str(config_file)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["n"] == 2 and figures["model_version"].startswith("troll-rules")
    assert figures["troll"] == {"support": 1, "precision": 1.0, "recall": 1.0}
    assert figures["threat"] == {"support": 1, "precision": 1.0, "recall": 1.0}
    data.write_text(json.dumps({"text": "kein Fall"}) + "\n", "utf-8")
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "cases.jsonl:1: not a troll case" in result.output


def test_eval_names_an_unknown_model(tmp_path: Path, config_file: Path) -> None:
    data = tmp_path / "tiny.tsv"
    data.write_text("text\tlabel\nok\tneutral\n", "utf-8")
    result = runner.invoke(
        app,
        [
            "eval",
            "--task",
            "sentiment",
            "--data",
            str(data),
            "--model",
            str(tmp_path / "nope"),
            "--config",
            str(config_file),
        ],
    )
    assert result.exit_code == 2
    assert "nope" in result.output


def test_init_writes_config_and_database_and_refuses_to_overwrite(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert "[[brands]]" in (tmp_path / "rufwacht.toml").read_text("utf-8")
    assert (tmp_path / "rufwacht.db").exists()
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 2
    assert "already exists" in second.output


def test_init_force_overwrites_and_names_the_database_beside_the_config(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "team").mkdir()
    config = write_toml(tmp_path / "team" / "rufwacht.toml", {"sla": {"max_hours": 2}})
    result = runner.invoke(app, ["init", "--force", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert config.read_text("utf-8") == example_config_text()
    assert f"database: {tmp_path / 'team' / 'rufwacht.db'}" in result.output
    assert (tmp_path / "team" / "rufwacht.db").exists()
    assert not (tmp_path / "rufwacht.db").exists()


def test_broken_config_names_file_key_and_problem(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text('[flagging]\nnegative_threshold = 1.5\n[storage]\nurll = "x"\n', "utf-8")
    result = runner.invoke(app, ["queue", "list", "--config", str(config)])
    assert result.exit_code == 2
    assert "broken.toml" in result.output
    assert "flagging.negative_threshold" in result.output
    assert "storage.urll" in result.output


def test_config_that_is_not_toml_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[storage\nurl = 1\n", "utf-8")
    result = runner.invoke(app, ["classify", "--config", str(config)], input="")
    assert result.exit_code == 2
    assert "broken.toml: not valid TOML" in result.output
    assert "line 1" in result.output


def test_models_list_shows_bundled_models_with_versions() -> None:
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "ngram-sentiment" in result.output and "ngram-offensive" in result.output
    assert "triage-" in result.output and "threat recall" in result.output
