"""Deciding whether a scored post needs the team, and how urgently.

The triage category decides what enters the queue: complaints, trolls, threats and crises do,
spam never does (unless it threatens), a question only with negativity or when
`queue_questions` says so. Negativity and the troll score keep their old say as a safety net:
on the demo feed the triage calls ten ironic or plain complaints praise or irrelevant ("Großartig,
Paket zum dritten Mal nicht zugestellt 👏"), so a brand post the sentiment model reads as
negative is still queued whatever its category, with a reason asking the team to check for
irony. How urgent a flagged post is, `monitor.queue.priority` rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.base import Prediction
from classifiers.triage import CATEGORY_NAMES
from classifiers.troll import TrollResult
from monitor.matching import MatchResult
from monitor.queue.priority import Reach, Severity, rate
from monitor.settings import FlaggingSettings

TEAM_CATEGORIES = frozenset({"complaint", "troll", "threat", "crisis"})
"""Categories that always need the team."""
DOUBTED = frozenset({"praise", "irrelevant"})
"""Categories the sentiment model can overrule: the triage misreads irony as praise."""


@dataclass(frozen=True)
class Verdict:
    flagged: bool
    brand: str | None
    priority: int
    """0–100, higher is more urgent (`monitor.queue.priority.rate`)."""
    reasons: list[str]


def decide(
    match: MatchResult,
    sentiment: Prediction,
    troll: TrollResult,
    spam: list[str],
    reach: Reach,
    settings: FlaggingSettings,
    category: str,
) -> Verdict:
    """`spam`: `classifiers.spam.spam_reasons` of the post; `category`: its triage category.
    Spam (by rule or category) is queued only if it threatens."""
    negative = sentiment.scores.get("negative", 0.0)
    is_negative = negative >= settings.negative_threshold
    is_troll = troll.score >= settings.troll_threshold
    threatens = troll.threat or category == "threat"
    reasons = _reasons(match, negative, is_negative, troll, is_troll, reach.followers)
    if (is_negative or is_troll) and category in DOUBTED:
        reasons.append(f"Triage: {CATEGORY_NAMES[category]}, Ton aber negativ – Ironie prüfen")
    by_category = category in TEAM_CATEGORIES or (
        category == "question" and settings.queue_questions
    )
    needs_team = (by_category or is_negative or is_troll) and not spam and category != "spam"
    flagged = bool(match.brands) and (needs_team or threatens)
    brand = match.brands[0] if match.brands else None
    severity = Severity(category, negative, troll.score, troll.threat, len(match.keywords))
    return Verdict(flagged, brand, rate(severity, reach), reasons)


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
