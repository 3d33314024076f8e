"""Deciding whether a scored post needs the team, and how urgently.

The models decide negativity; matched keywords only raise priority (a post saying "Ich hasse
Montage, aber der Techniker hat alles repariert" carries a keyword and is praise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from classifiers.base import Prediction
from classifiers.troll import TrollResult
from monitor.matching import MatchResult
from monitor.settings import FlaggingSettings

THREAT_BONUS = 30
KEYWORD_BONUS, MAX_KEYWORD_BONUS = 5, 10
MAX_REACH_BONUS = 10


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
) -> Verdict:
    """`spam`: `classifiers.spam.spam_reasons` of the post; spam is queued only if it threatens."""
    negative = sentiment.scores.get("negative", 0.0)
    is_negative = negative >= settings.negative_threshold
    is_troll = troll.score >= settings.troll_threshold
    reasons = _reasons(match, negative, is_negative, troll, is_troll, followers)
    needs_team = (is_negative or is_troll) and not spam
    flagged = bool(match.brands) and (needs_team or troll.threat)
    brand = match.brands[0] if match.brands else None
    return Verdict(flagged, brand, _priority(match, negative, troll, followers), reasons)


def _priority(
    match: MatchResult, negative: float, troll: TrollResult, followers: int | None
) -> int:
    urgency = 50 * max(negative, troll.score)
    threat = THREAT_BONUS if troll.threat else 0
    keywords = min(KEYWORD_BONUS * len(match.keywords), MAX_KEYWORD_BONUS)
    return min(100, round(urgency + threat + keywords + _reach_bonus(followers)))


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
