"""What the queue takes and in which order: the triage category decides, negativity is the
safety net; threats and crises first, then negativity, keywords and reach."""

from __future__ import annotations

import pytest

from classifiers.base import Prediction
from classifiers.troll import TrollResult
from monitor.flagging import Verdict, decide
from monitor.matching import MatchResult
from monitor.queue.priority import ESCALATED_FLOOR, Reach
from monitor.settings import FlaggingSettings

SETTINGS = FlaggingSettings()  # negative_threshold 0.4, troll_threshold 0.6


def judge(
    negative: float = 0.0,
    troll: float = 0.0,
    threat: bool = False,
    keywords: tuple[str, ...] = (),
    followers: int | None = None,
    spam: tuple[str, ...] = (),
    category: str = "complaint",
    settings: FlaggingSettings = SETTINGS,
) -> Verdict:
    """The verdict on a post mentioning Deutsche Bahn with these model and match results."""
    rest = (1 - negative) / 2
    sentiment = Prediction(
        label="negative" if negative >= rest else "neutral",
        scores={"negative": negative, "neutral": rest, "positive": rest},
        model_version="test",
    )
    troll_result = TrollResult(
        score=troll,
        is_troll=troll >= SETTINGS.troll_threshold,
        threat=threat,
        reasons=["Drohung"] if threat else [],
        model_version="test",
    )
    match = MatchResult(brands=["Deutsche Bahn"], keywords=list(keywords))
    reach = Reach(followers)
    return decide(match, sentiment, troll_result, list(spam), reach, settings, category)


def test_a_calm_threat_outranks_an_angry_complaint_and_is_always_queued() -> None:
    threat = judge(negative=0.2, troll=0.3, threat=True, category="threat")
    complaint = judge(negative=0.8)

    assert threat.flagged and complaint.flagged
    assert threat.priority >= ESCALATED_FLOOR > complaint.priority
    assert threat.reasons[0] == "Drohung oder Erpressung"


def test_threats_and_crises_sort_above_the_most_urgent_complaint_possible() -> None:
    worst = {"keywords": ("a", "b"), "followers": 10**9}
    complaint = judge(negative=1.0, troll=1.0, **worst)  # type: ignore[arg-type]
    crisis = judge(negative=0.1, category="crisis")
    threat = judge(category="threat")

    assert complaint.priority == ESCALATED_FLOOR - 1 == 70
    assert crisis.flagged and threat.flagged
    assert min(crisis.priority, threat.priority) == ESCALATED_FLOOR
    assert judge(negative=0.9, category="crisis").priority > ESCALATED_FLOOR


@pytest.mark.parametrize("category", ["complaint", "troll", "threat", "crisis"])
def test_team_categories_are_queued_without_negativity(category: str) -> None:
    assert judge(negative=0.1, category=category).flagged


@pytest.mark.parametrize("category", ["praise", "irrelevant", "spam", "question"])
def test_calm_praise_irrelevant_posts_spam_and_questions_are_not_queued(category: str) -> None:
    assert not judge(negative=0.1, category=category).flagged


def test_a_negative_question_is_queued_and_every_question_with_the_switch() -> None:
    asking = FlaggingSettings(queue_questions=True)

    assert judge(negative=0.6, category="question").flagged
    assert judge(negative=0.1, category="question", settings=asking).flagged


def test_negative_praise_is_queued_for_a_look_at_irony_and_spam_never() -> None:
    """The triage reads "Großartig, Paket zum dritten Mal nicht zugestellt 👏" as praise."""
    ironic = judge(negative=0.8, category="praise")

    assert ironic.flagged
    assert ironic.reasons[-1] == "Triage: Lob, Ton aber negativ – Ironie prüfen"
    assert not judge(negative=0.9, category="spam").flagged
    assert judge(negative=0.9, category="spam", threat=True).flagged


def test_threatening_spam_is_queued_and_other_spam_is_not() -> None:
    phishing = ("Phishing-Wortlaut mit Link",)

    assert not judge(negative=0.9, spam=phishing).flagged
    assert judge(negative=0.9, threat=True, spam=phishing).flagged


def test_the_higher_of_negativity_and_troll_score_sets_the_urgency() -> None:
    assert judge(negative=0.5, troll=0.9).priority == judge(negative=0.9, troll=0.5).priority
    assert judge(negative=0.9).priority > judge(negative=0.5).priority
    # below both thresholds, and a question: nothing for the team
    assert not judge(negative=0.3, troll=0.5, category="question").flagged


def test_up_to_two_matched_keywords_raise_the_priority() -> None:
    words = ("unzumutbar", "erstatt*", "verspät*")
    priorities = [judge(negative=0.5, keywords=words[:n]).priority for n in range(4)]

    assert priorities[0] < priorities[1] < priorities[2] == priorities[3]
    assert "Schlagworte: unzumutbar, erstatt*, verspät*" in judge(keywords=words).reasons


def test_large_accounts_are_named_in_the_reasons() -> None:
    assert "Große Reichweite (250.000 Follower)" in judge(negative=0.9, followers=250_000).reasons
    assert not any("Reichweite" in r for r in judge(negative=0.9, followers=9_999).reasons)


def test_the_most_urgent_post_possible_scores_exactly_100() -> None:
    worst = judge(
        negative=1.0,
        troll=1.0,
        threat=True,
        keywords=("a", "b", "c"),
        followers=10**9,
        category="threat",
    )

    assert worst.priority == 100
