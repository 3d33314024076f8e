"""Deciding whether a scored post needs the team, and how urgently.

The triage category decides what enters the queue: complaints, trolls, threats and crises do,
spam never does (unless it threatens), a question only with negativity or when
`queue_questions` says so. Negativity and the troll score keep their old say as a safety net:
on the demo feed the triage calls ten ironic or plain complaints praise or irrelevant ("Großartig,
Paket zum dritten Mal nicht zugestellt 👏"), so a brand post the sentiment model reads as
negative is still queued whatever its category, with a reason asking the team to check for
irony. Matched keywords only raise priority.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from classifiers.base import Prediction
from classifiers.triage import CATEGORY_NAMES
from classifiers.troll import TrollResult
from monitor.matching import MatchResult
from monitor.settings import FlaggingSettings

THREAT_BONUS = 30
KEYWORD_BONUS, MAX_KEYWORD_BONUS = 5, 10
MAX_REACH_BONUS = 10
ESCALATED_FLOOR = 50 + MAX_KEYWORD_BONUS + MAX_REACH_BONUS + 1
"""Threats and crises start one point above the most urgent complaint possible: they sort first."""

TEAM_CATEGORIES = frozenset({"complaint", "troll", "threat", "crisis"})
"""Categories that always need the team."""
ESCALATED = frozenset({"threat", "crisis"})
DOUBTED = frozenset({"praise", "irrelevant"})
"""Categories the sentiment model can overrule: the triage misreads irony as praise."""


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    brand: str | None
    priority: int
    """0–100, higher is more urgent."""
    reasons: list[str]


def decide(
    match: MatchResult,
    sentiment: Prediction,
    troll: TrollResult,
    spam: list[str],
    followers: int | None,
    settings: FlaggingSettings,
    category: str,
) -> Verdict:
    """`spam`: `classifiers.spam.spam_reasons` of the post; `category`: its triage category.
    Spam (by rule or category) is queued only if it threatens."""
    negative = sentiment.scores.get("negative", 0.0)
    is_negative = negative >= settings.negative_threshold
    is_troll = troll.score >= settings.troll_threshold
    threatens = troll.threat or category == "threat"
    reasons = _reasons(match, negative, is_negative, troll, is_troll, followers)
    if (is_negative or is_troll) and category in DOUBTED:
        reasons.append(f"Triage: {CATEGORY_NAMES[category]}, Ton aber negativ – Ironie prüfen")
    by_category = category in TEAM_CATEGORIES or (
        category == "question" and settings.queue_questions
    )
    needs_team = (by_category or is_negative or is_troll) and not spam and category != "spam"
    flagged = bool(match.brands) and (needs_team or threatens)
    brand = match.brands[0] if match.brands else None
    priority = _priority(match, negative, troll, followers, category in ESCALATED)
    return Verdict(flagged, brand, priority, reasons)


def _priority(
    match: MatchResult,
    negative: float,
    troll: TrollResult,
    followers: int | None,
    escalated: bool,
) -> int:
    """0–100; a threat or crisis (`escalated`) gets at least `ESCALATED_FLOOR`."""
    urgency = 50 * max(negative, troll.score)
    threat = THREAT_BONUS if troll.threat or escalated else 0
    keywords = min(KEYWORD_BONUS * len(match.keywords), MAX_KEYWORD_BONUS)
    score = round(urgency + threat + keywords + _reach_bonus(followers))
    return min(100, max(score, ESCALATED_FLOOR) if escalated else score)


def _reach_bonus(followers: int | None) -> float:
    """Up to 10 points, growing with the order of magnitude of the audience (1M → full)."""
    if not followers:
        return 0.0
    return min(MAX_REACH_BONUS, MAX_REACH_BONUS * math.log10(followers) / 6)


def _reasons(
    match: MatchResult,
    negative: float,
    is_negative: bool,
    troll: TrollResult,
    is_troll: bool,
    followers: int | None,
) -> list[str]:
    """Why the post is in the queue, in German: the team reads these."""
    reasons: list[str] = []
    if troll.threat:
        reasons.append("Drohung oder Erpressung")
    if is_negative:
        reasons.append(f"Negativ ({negative:.0%})")
    if is_troll:
        reasons.append(f"Troll-Verdacht ({troll.score:.0%})")
    if match.keywords:
        reasons.append("Schlagworte: " + ", ".join(match.keywords))
    if followers and followers >= 10_000:
        reasons.append(f"Große Reichweite ({followers:,} Follower)".replace(",", "."))
    return reasons
