"""The draft checker: what a second pair of eyes would stop or question in a German reply."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.base import TextClassifier
from classifiers.registry import load_classifier
from monitor.cli import app
from monitor.guidance.checker import Finding, ReplyContext, Severity, blocks, check_reply
from monitor.guidance.playbooks import Category
from monitor.guidance.replies import seed_shipped_replies
from monitor.guidance.shipped_replies import SHIPPED_REPLIES
from monitor.guidance.tone import Tone
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, VerdictRecord
from tests import factories
from tests.conftest import write_config

runner = CliRunner()

PARCEL_POST = "@DHLPaket Mein Paket ist seit einer Woche verschwunden, die Sendungsverfolgung zeigt nichts mehr."
GOOD_REPLY = (
    "Hallo Frau Berger, danke für Ihre Nachricht, und es tut uns leid, dass das Paket nicht "
    "auftaucht. Wir lassen es bei der Zustellbasis suchen. Schicken Sie uns bitte per "
    "Direktnachricht die Sendungsnummer, dann melden wir uns mit dem Ergebnis. /jk"
)
BLACKMAIL_POST = (
    "Entweder ihr erstattet mir das, oder ich poste überall Screenshots von eurem Chat."
)
CONCESSION = (
    "Hallo, wir möchten keinen Ärger: Sie bekommen einen Gutschein über 50 Euro, wenn Sie die "
    "Screenshots löschen."
)
INSULT = "Danke für Ihre Nachricht. Aber ehrlich, Sie sind einfach zu dumm, die Anleitung zu lesen."
IBAN_REPLY = (
    "Danke für Ihre Geduld! Wir überweisen den Betrag auf DE89 3704 0044 0532 0130 00, sobald "
    "die Prüfung durch ist."
)
DU_REPLY = (
    "Hallo, danke für deine Nachricht! Schick uns bitte eine DM, dann schauen wir uns das an."
)


@pytest.fixture(scope="module")
def offensive() -> TextClassifier:
    return load_classifier("ngram-offensive", "offensive")


def context(category: Category = Category.COMPLAINT, **changes: object) -> ReplyContext:
    fields: dict[str, object] = {
        "category": category,
        "tone": Tone.SIE,
        "platform": "twitter",
        "length_limit": 280,
        "post_text": PARCEL_POST,
    }
    return ReplyContext(**{**fields, **changes})  # type: ignore[arg-type]


def rules(findings: list[Finding], severity: Severity | None = None) -> list[str]:
    return [f.rule for f in findings if severity is None or f.severity is severity]


def spans(draft: str, findings: list[Finding], rule: str) -> list[str]:
    return [draft[f.start : f.end] for f in findings if f.rule == rule]


def test_a_good_reply_passes_without_findings(offensive: TextClassifier) -> None:
    assert check_reply(GOOD_REPLY, context(), offensive) == []


def test_a_blackmail_concession_on_a_threat_blocks(offensive: TextClassifier) -> None:
    findings = check_reply(
        CONCESSION, context(Category.THREAT, post_text=BLACKMAIL_POST), offensive
    )
    assert blocks(findings)
    assert spans(CONCESSION, findings, "no_blackmail") == [
        "Gutschein",
        "50 Euro",
        "wenn Sie die Screenshots löschen",
    ]
    assert "Erpressung" in findings[0].message


def test_a_voucher_for_an_ordinary_complaint_is_no_blackmail(offensive: TextClassifier) -> None:
    draft = "Danke für Ihre Geduld! Als kleine Entschuldigung schicken wir Ihnen einen Gutschein."
    assert "no_blackmail" not in rules(check_reply(draft, context(), offensive))


def test_an_insult_blocks(offensive: TextClassifier) -> None:
    findings = check_reply(INSULT, context(), offensive)
    assert blocks(findings)
    assert spans(INSULT, findings, "stay_factual") == ["Sie sind einfach zu dumm"]


def test_sarcasm_warns(offensive: TextClassifier) -> None:
    draft = "Danke für nichts 🙄 Wer lesen kann, ist klar im Vorteil."
    findings = check_reply(draft, context(), offensive)
    assert not blocks(findings)
    assert spans(draft, findings, "stay_factual") == [
        "Danke für nichts",
        "🙄",
        "Wer lesen kann, ist klar im Vorteil",
    ]


def test_an_iban_in_a_public_reply_warns_and_points_at_it(offensive: TextClassifier) -> None:
    findings = check_reply(IBAN_REPLY, context(), offensive)
    assert rules(findings) == ["private_channel"]
    [finding] = findings
    assert finding.severity is Severity.WARN
    assert IBAN_REPLY[finding.start : finding.end] == "DE89 3704 0044 0532 0130 00"
    assert "privaten Kanal" in finding.message
    assert check_reply(IBAN_REPLY, context(public=False), offensive) == []


def test_du_for_a_sie_brand_warns_and_sie_for_a_du_brand_too(offensive: TextClassifier) -> None:
    findings = check_reply(DU_REPLY, context(), offensive)
    assert rules(findings) == ["brand_tone"]
    assert spans(DU_REPLY, findings, "brand_tone") == ["deine"]
    assert check_reply(DU_REPLY, context(tone=Tone.DU), offensive) == []
    sie_findings = check_reply(GOOD_REPLY, context(tone=Tone.DU), offensive)
    assert spans(GOOD_REPLY, sie_findings, "brand_tone") == ["Ihre", "Sie"]


def test_promises_the_team_cannot_check_warn(offensive: TextClassifier) -> None:
    draft = "Danke! Das ist garantiert bis Freitag erledigt, und Ihr Geld wird sofort erstattet."
    findings = check_reply(draft, context(), offensive)
    assert not blocks(findings)
    assert spans(draft, findings, "truthful") == ["garantiert", "bis Freitag", "sofort erstattet"]
    assert "truthful" not in rules(check_reply("Guten Morgen und danke!", context(), offensive))


def test_over_the_length_limit_warns_from_the_first_character_too_many(
    offensive: TextClassifier,
) -> None:
    draft = GOOD_REPLY + " Wir bleiben dran und melden uns wieder bei Ihnen."
    findings = check_reply(draft, context(), offensive)
    [finding] = [f for f in findings if f.rule == "length_limit"]
    assert (finding.start, finding.end) == (280, len(draft))
    assert f"{len(draft)} Zeichen" in finding.message
    assert check_reply(draft, context(length_limit=None), offensive) == []


def test_an_unchanged_stock_template_on_a_complaint_warns(offensive: TextClassifier) -> None:
    template = next(
        r.body for r in SHIPPED_REPLIES if r.title == "Erste Antwort" and r.tone == "sie"
    )
    unchanged = template.replace("{name}", "@pendlerin").replace("{agent}", "/jk")
    findings = check_reply(unchanged, context(template=template), offensive)
    assert rules(findings) == ["individual_solution"]

    personal = unchanged.replace(
        "Wir sehen uns das an.", "Wir lassen das Paket bei der Zustellbasis in Kassel suchen."
    )
    assert check_reply(personal, context(template=template), offensive) == []


def test_a_complaint_answer_without_thanks_or_apology_warns(offensive: TextClassifier) -> None:
    draft = "Hallo, schicken Sie uns bitte eine Direktnachricht mit der Sendungsnummer."
    assert rules(check_reply(draft, context(), offensive)) == ["thank_and_take_seriously"]
    assert check_reply(draft, context(Category.QUESTION), offensive) == []


def test_answering_a_troll_warns_with_what_the_playbook_allows(offensive: TextClassifier) -> None:
    draft = (
        "Hallo, die Zahlen zur Pünktlichkeit veröffentlichen wir jeden Monat auf unserer Website."
    )
    insinuation = context(Category.TROLL, post_text="Komisch, dass die Bahn das verschweigt 🤔")
    [finding] = check_reply(draft, insinuation, offensive)
    assert (finding.rule, finding.severity) == ("dont_feed_trolls", Severity.WARN)
    assert "keine Frage" in finding.message
    question = context(Category.TROLL, post_text="Wer glaubt euch die Pünktlichkeitszahlen noch?")
    [finding] = check_reply(draft, question, offensive)
    assert "einmal" in finding.message


def test_a_finding_can_only_name_a_playbook_rule() -> None:
    with pytest.raises(ValueError, match="unknown rule 'be_nice'"):
        Finding(Severity.WARN, "be_nice", "Freundlich sein.", 0, 1)


# --- rufwacht check-reply ----------------------------------------------------------------------


def queue_item(db: Database, text: str, brand: str = "DHL", category: str | None = None) -> int:
    """A queued post (with a stored verdict naming its triage category, if given) in a
    database with the shipped saved replies."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        seed_shipped_replies(session)
        post = PostRecord(
            platform="twitter",
            platform_id=f"p{abs(hash(text))}",
            source="twitter",
            text=text,
            created_at=now - timedelta(hours=1),
        )
        if category:
            post.verdict = VerdictRecord(
                flagged=True,
                priority=80,
                brand=brand,
                category={"label": category, "confidence": 0.9, "reasons": []},
                action={"label": "escalate", "escalate_to": "legal", "reasons": []},
                guideline=category,
            )
        item = factories.queue_item(
            post, brand=brand, priority=80, category=category, due_at=now + timedelta(hours=23)
        )
        session.add(item)
        session.flush()
        return item.id


@pytest.fixture
def checked_config(tmp_path: Path, db_url: str) -> Path:
    config = write_config(tmp_path / "rufwacht.toml", db_url)
    text = config.read_text("utf-8").replace(
        'offensive = "e5-offensive"', 'offensive = "ngram-offensive"'
    )
    config.write_text(text, encoding="utf-8")
    return config


def check(config: Path, item: int, draft: str, *extra: str) -> object:
    args = ["check-reply", "--item", str(item), "--text", draft, "--config", str(config), *extra]
    return runner.invoke(app, args, terminal_width=200)


def test_check_reply_blocks_a_concession_to_a_stored_threat(
    checked_config: Path, db: Database
) -> None:
    item = queue_item(db, BLACKMAIL_POST, category="threat")
    result = check(checked_config, item, CONCESSION, "--json")
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    assert {f["rule"] for f in findings} == {"no_blackmail"}
    assert set(findings[0]) == {"severity", "rule", "message", "start", "end"}
    assert findings[0]["severity"] == "block"
    assert "no triage category" not in result.stderr


def test_check_reply_treats_an_untriaged_item_as_a_complaint_and_says_so(
    checked_config: Path, db: Database
) -> None:
    item = queue_item(db, PARCEL_POST)
    result = check(checked_config, item, GOOD_REPLY)
    assert result.exit_code == 0, result.output
    assert "checked as a complaint" in result.stderr
    assert "Playbook: Beschwerde" in result.stdout
    assert "Textbausteine: #" in result.stdout and "Erste Antwort" in result.stdout
    assert "Keine Einwände" in result.stdout

    warned = check(checked_config, item, IBAN_REPLY)
    assert warned.exit_code == 0, warned.output
    assert "WARNUNG [private_channel]" in warned.stdout
    assert "IBAN in einer öffentlichen Antwort" in warned.stdout

    blocked = check(checked_config, item, INSULT)
    assert blocked.exit_code == 1
    assert "BLOCKIERT [stay_factual]" in blocked.stdout


def test_check_reply_uses_the_brands_tone_and_a_length_override(
    checked_config: Path, db: Database
) -> None:
    text = checked_config.read_text("utf-8").replace('name = "DHL"', 'name = "DHL"\ntone = "du"')
    checked_config.write_text(text, encoding="utf-8")
    item = queue_item(db, PARCEL_POST)
    result = check(checked_config, item, DU_REPLY, "--json", "--max-chars", "60")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)["findings"]
    assert [f["rule"] for f in findings] == ["length_limit"]
    assert findings[0]["start"] == 60


def test_check_reply_on_an_unknown_item_exits_2(checked_config: Path, db: Database) -> None:
    result = check(checked_config, 999, GOOD_REPLY)
    assert result.exit_code == 2
    assert "no queue item with id 999" in result.stderr
