"""The playbooks: every category has one, every seed rule is written once and used."""

from __future__ import annotations

from collections import Counter

from typer.testing import CliRunner

from monitor.cli import app
from monitor.guidance.playbooks import PLAYBOOKS, RULES, Category, ReplyPolicy, playbook_for

runner = CliRunner()

SEED_RULES = {
    "fast_answer": "24 Stunden",
    "thank_and_take_seriously": "danken",
    "truthful": "Wahrheit",
    "individual_solution": "Lösung für genau diesen Fall",
    "private_channel": "privaten Kanal",
    "keep_informed": "Auf dem Laufenden halten",
    "stay_factual": "nicht um die Person",
    "dont_feed_trolls": "nicht füttern",
    "no_blackmail": "Erpressung nie nachgeben",
    "escalate_safety_legal": "eskalieren",
    "four_eyes": "zweiten Person gegenlesen",
}
"""Each rule of the seed articles, with words its text must contain."""


def test_every_category_has_a_playbook() -> None:
    assert set(PLAYBOOKS) == set(Category)
    assert playbook_for("troll").reply is ReplyPolicy.FACTS_ONCE
    assert playbook_for(Category.PRAISE).reply is ReplyPolicy.OPTIONAL


def test_every_seed_rule_is_written_once_in_the_rule_table() -> None:
    assert {rule.id for rule in RULES.values() if rule.seed} == set(SEED_RULES)
    for rule_id, words in SEED_RULES.items():
        rule = RULES[rule_id]
        written = f"{rule.do} {rule.dont or ''}"
        assert words in written, rule_id
        others = [r.id for r in RULES.values() if r.id != rule_id and words in f"{r.do} {r.dont}"]
        assert not others, f"{rule_id!r}'s words also stand in {others}"
    sentences = [text for rule in RULES.values() for text in (rule.do, rule.dont) if text]
    assert [text for text, n in Counter(sentences).items() if n > 1] == []


def test_playbooks_reference_rules_without_restating_them() -> None:
    used = {rule_id for playbook in PLAYBOOKS.values() for rule_id in playbook.rule_ids}
    assert used == set(RULES)
    for playbook in PLAYBOOKS.values():
        assert len(set(playbook.rule_ids)) == len(playbook.rule_ids)
        extras = " ".join(playbook.extra_do + playbook.extra_dont + playbook.steps)
        assert not any(rule.do in extras for rule in RULES.values())


def test_troll_and_threat_playbooks_say_what_matters_most() -> None:
    assert playbook_for("troll").rule_ids[0] == "dont_feed_trolls"
    threat = playbook_for("threat")
    assert threat.rule_ids[:2] == ("no_blackmail", "escalate_safety_legal")
    assert threat.escalation is not None and "Rechtsabteilung" in threat.escalation.to
    assert playbook_for("crisis").escalation is not None


def test_guidelines_list_and_show() -> None:
    listed = runner.invoke(app, ["guidelines", "list"])
    assert listed.exit_code == 0, listed.output
    for category in Category:
        assert category.value in listed.stdout

    shown = runner.invoke(app, ["guidelines", "show", "complaint"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "Beschwerde" in shown.stdout
    assert "[fast_answer]" in shown.stdout and "[four_eyes]" in shown.stdout
    assert "Eskalieren, wenn:" in shown.stdout


def test_guidelines_show_names_the_known_categories_for_an_unknown_one() -> None:
    result = runner.invoke(app, ["guidelines", "show", "lob"])
    assert result.exit_code == 2
    assert "unknown category 'lob'" in result.stderr
    assert "praise" in result.stderr
