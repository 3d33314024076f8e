"""How urgent a flagged post is: severity × reach, as a sortable number and a band.

The one place that rates urgency: flagging stores the number with the verdict and the queue
item, the SLA reads the band, the queue sorts and filters by the number. Crisis and threats
rate above `ESCALATED_FLOOR - 1`, everything else at or below it, so they always sort first;
within each group, a louder post (more followers, more engagement) comes before a quiet one of
the same severity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

ESCALATED = frozenset({"threat", "crisis"})
"""Triage categories that always go first."""
ESCALATED_FLOOR = 71
"""The lowest priority of a crisis or threat; every other post rates below it."""
MAX_PRIORITY = 100
KEYWORD_WEIGHT, MAX_KEYWORDS = 0.1, 2
FULL_REACH = 1_000_000
"""An audience this large (followers plus weighted engagement) counts as full reach."""
ENGAGEMENT_WEIGHT = 10
"""Each like, share or reply counts as this many followers: it carries the post further."""
ENGAGEMENT_METRICS = frozenset(
    {"like_count", "retweet_count", "reply_count", "quote_count", "score", "num_comments"}
)
"""Metrics the connectors store (X public metrics, Reddit score and comments)."""


class Band(StrEnum):
    """Priority bands, most urgent first; each has its own SLA hours (`[sla.hours]`)."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Sort(StrEnum):
    """The queue's orders (`monitor.queue.queries.ORDER`)."""

    URGENT = "urgent"
    """Highest priority first, then the earliest deadline."""
    WAITING = "waiting"
    """The longest waiting first (oldest SLA clock start)."""


BAND_FLOORS: dict[Band, int] = {
    Band.CRITICAL: ESCALATED_FLOOR,
    Band.HIGH: 50,
    Band.NORMAL: 25,
    Band.LOW: 0,
}
"""The lowest priority of each band: a band is a range of priorities, so SQL filters on it."""


@dataclass(frozen=True)
class Severity:
    category: str
    """The triage category."""
    negative: float
    troll: float
    threat: bool
    """The troll model's threat signal (a threat whatever the category says)."""
    keywords: int
    """How many negative keywords matched."""

    @property
    def escalated(self) -> bool:
        return self.threat or self.category in ESCALATED

    def strength(self) -> float:
        """0–1: the stronger of negativity and trolling, plus a little per keyword."""
        keywords = KEYWORD_WEIGHT * min(self.keywords, MAX_KEYWORDS)
        return min(1.0, max(self.negative, self.troll) + keywords)


@dataclass(frozen=True)
class Reach:
    followers: int | None = None
    engagement: int = 0

    def strength(self) -> float:
        """0–1, by orders of magnitude of the audience (1,000,000 → 1)."""
        audience = (self.followers or 0) + ENGAGEMENT_WEIGHT * self.engagement
        return min(1.0, math.log10(1 + audience) / math.log10(FULL_REACH))


def engagement(metrics: Mapping[str, object]) -> int:
    """Likes, shares, replies and votes of a post; other metrics (impressions) do not count."""
    return sum(
        value
        for key, value in metrics.items()
        if key in ENGAGEMENT_METRICS and isinstance(value, int) and value > 0
    )


def rate(severity: Severity, reach: Reach) -> int:
    """0–100: severity scaled by reach (a silent post keeps half its severity); crisis and
    threats in `ESCALATED_FLOOR`–100, everything else below."""
    urgency = severity.strength() * (0.5 + 0.5 * reach.strength())
    if severity.escalated:
        return ESCALATED_FLOOR + round((MAX_PRIORITY - ESCALATED_FLOOR) * urgency)
    return round((ESCALATED_FLOOR - 1) * urgency)


def band_of(priority: int) -> Band:
    return next(band for band, floor in BAND_FLOORS.items() if priority >= floor)


def band_range(band: Band) -> tuple[int, int]:
    """The priorities of a band, both ends included."""
    bands = list(BAND_FLOORS)
    index = bands.index(band)
    top = MAX_PRIORITY if index == 0 else BAND_FLOORS[bands[index - 1]] - 1
    return BAND_FLOORS[band], top
