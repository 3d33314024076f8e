"""SLA deadlines in business hours and each item's SLA state.

A deadline counts the hours of its priority band in business hours (open days and hours in
the configured time zone, without the public holidays of one Bundesland), but never lies more
than `max_hours` on the wall clock after the post: the source articles promise a first answer
within 24 hours, weekend or not. Each item stores its deadline and the moment it turns "near"
(in the last quarter of its window, by default), so that the SLA state is a comparison SQL can
filter and count on (`monitor.queue.queries`); `monitor.queue.breaches` records each breach once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from monitor.queue.priority import Band
from monitor.queue.states import QueueStatus
from monitor.settings import WEEKDAYS, SlaSettings

if TYPE_CHECKING:  # the ORM costs the CLI's start-up 0.1 s; `queue list --sla` needs SlaState
    from monitor.storage.models import QueueItem

WAITING = frozenset(
    {QueueStatus.NEW, QueueStatus.ASSIGNED, QueueStatus.DRAFT, QueueStatus.AWAITING_APPROVAL}
)
"""Statuses still waiting for a first answer: only their clock runs and only they breach.
Replied, closed, escalated (another team's clock) and deleted items have stopped theirs."""
MAX_DAYS_AHEAD = 3660
"""A search for business hours gives up after ten years (a config with only holidays)."""


class SlaState(StrEnum):
    OK = "ok"
    NEAR = "near"
    """In the last share of the window (`[sla] near`)."""
    OVERDUE = "overdue"


class SlaClock:
    """Deadlines under one `[sla]` configuration."""

    def __init__(self, settings: SlaSettings) -> None:
        import holidays  # 0.2 s: only processes that queue posts load it

        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.holidays = holidays.Germany(subdiv=settings.state)
        self.days = frozenset(WEEKDAYS.index(day) for day in settings.days)

    def deadline(self, start: datetime, band: Band) -> tuple[datetime, datetime]:
        """`(due_at, near_at)` for an item whose clock starts at `start` (aware).

        Both are the earlier of two clocks: business time (near after the first 75 % of the
        band's business hours, not at night before opening) and the wall-clock cap (near in
        its last quarter, for a post whose business deadline lies after the weekend)."""
        work = timedelta(hours=getattr(self.settings.hours, band.value))
        share = self.settings.near
        start = start.astimezone(UTC)
        cap = timedelta(hours=self.settings.max_hours)
        due = min(self.business_deadline(start, work), start + cap)
        near = min(self.business_deadline(start, work * (1 - share)), start + cap * (1 - share))
        return due, near

    def business_deadline(self, start: datetime, work: timedelta) -> datetime:
        """`start` plus `work` counted only in business hours."""
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS_AHEAD):
            if self.is_business_day(day):
                begin = max(self._at(day, self.settings.opens), start)
                closes = self._at(day, self.settings.closes)
                if begin + work <= closes:
                    return begin + work
                work -= max(closes - begin, timedelta(0))
            day += timedelta(days=1)
        raise ValueError(f"no business hours within {MAX_DAYS_AHEAD} days of {start}")

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def _at(self, day: date, clock: time) -> datetime:
        """A local wall-clock time as UTC, so that durations across a DST change are real."""
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)


def state_of(item: QueueItem, now: datetime) -> SlaState:
    """The state `queries.sla_condition` selects the item by, for an item already loaded."""
    if item.status not in WAITING or item.sla_near_at > now:
        return SlaState.OK
    return SlaState.OVERDUE if item.due_at <= now else SlaState.NEAR
