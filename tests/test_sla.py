"""SLA deadlines in business hours: weekends, holidays per Bundesland, DST, the 24 h cap."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor.queue.priority import Band
from monitor.queue.sla import SlaClock
from monitor.settings import ConfigError, SlaSettings, load_settings
from tests.conftest import write_toml

BERLIN = ZoneInfo("Europe/Berlin")
NO_CAP = {"max_hours": 24 * 30}
"""Lifts the wall-clock cap, to see the business-hours arithmetic alone."""


def at(*fields: int) -> datetime:
    """A wall-clock time in Berlin."""
    return datetime(*fields, tzinfo=BERLIN)  # type: ignore[misc]


def due(start: datetime, band: Band, **sla: Any) -> datetime:
    """The deadline, in Berlin time, under the default `[sla]` with `sla` changed."""
    return SlaClock(SlaSettings(**sla)).deadline(start, band)[0].astimezone(BERLIN)


def test_a_deadline_counts_only_opening_hours() -> None:
    assert due(at(2026, 11, 23, 9, 0), Band.HIGH) == at(2026, 11, 23, 13, 0)
    assert due(at(2026, 11, 23, 16, 0), Band.HIGH) == at(2026, 11, 24, 10, 0)
    # posted before opening: the clock starts at 8:00
    assert due(at(2026, 11, 23, 6, 30), Band.CRITICAL) == at(2026, 11, 23, 9, 0)


def test_the_weekend_does_not_count() -> None:
    friday_evening = at(2026, 11, 27, 17, 30)
    assert due(friday_evening, Band.HIGH, **NO_CAP) == at(2026, 11, 30, 11, 30)


def test_a_deadline_is_never_more_than_24_hours_after_the_post() -> None:
    friday_evening = at(2026, 11, 27, 17, 0)
    assert due(friday_evening, Band.HIGH) == at(2026, 11, 28, 17, 0)
    assert due(at(2026, 11, 23, 9, 0), Band.LOW) == at(2026, 11, 24, 9, 0)
    assert due(friday_evening, Band.HIGH, max_hours=2) == at(2026, 11, 27, 19, 0)


def test_epiphany_is_a_holiday_in_bavaria_but_not_in_berlin() -> None:
    tuesday_evening = at(2027, 1, 5, 17, 0)  # 6 January 2027 is a Wednesday
    assert due(tuesday_evening, Band.HIGH, state="BE") == at(2027, 1, 6, 11, 0)
    assert due(tuesday_evening, Band.HIGH, state="BY", **NO_CAP) == at(2027, 1, 7, 11, 0)
    assert due(tuesday_evening, Band.HIGH, state="BY") == at(2027, 1, 6, 17, 0)  # the cap


def test_womens_day_is_a_holiday_in_berlin_only() -> None:
    sunday = at(2027, 3, 7, 12, 0)  # 8 March 2027 is a Monday
    assert due(sunday, Band.CRITICAL, state="HH") == at(2027, 3, 8, 9, 0)
    assert due(sunday, Band.CRITICAL, state="BE", **NO_CAP) == at(2027, 3, 9, 9, 0)


@pytest.mark.parametrize(
    ("saturday", "sunday_due"),
    [
        (at(2026, 3, 28, 17, 0), at(2026, 3, 29, 11, 0)),  # clocks go forward at 2:00
        (at(2026, 10, 24, 17, 0), at(2026, 10, 25, 11, 0)),  # clocks go back at 3:00
    ],
)
def test_a_change_to_or_from_summer_time_keeps_opening_hours_on_the_wall_clock(
    saturday: datetime, sunday_due: datetime
) -> None:
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert due(saturday, Band.HIGH, days=every_day) == sunday_due


def test_an_item_turns_near_in_the_last_quarter_of_its_window() -> None:
    clock = SlaClock(SlaSettings())
    due_at, near_at = clock.deadline(at(2026, 11, 23, 9, 0), Band.CRITICAL)
    assert near_at.astimezone(BERLIN) == at(2026, 11, 23, 9, 45)
    _, half = SlaClock(SlaSettings(near=0.5)).deadline(at(2026, 11, 23, 9, 0), Band.HIGH)
    assert half.astimezone(BERLIN) == at(2026, 11, 23, 11, 0)
    assert due_at - near_at == timedelta(minutes=15)


def near(start: datetime, band: Band) -> datetime:
    return SlaClock(SlaSettings()).deadline(start, band)[1].astimezone(BERLIN)


def test_near_counts_business_time_too_not_the_night_before_opening() -> None:
    assert near(at(2026, 11, 23, 6, 0), Band.CRITICAL) == at(2026, 11, 23, 8, 45)
    # capped at Saturday 17:00: near in the cap's last quarter, not on Monday
    assert near(at(2026, 11, 27, 17, 0), Band.HIGH) == at(2026, 11, 28, 11, 0)


def test_other_business_hours_and_time_zone() -> None:
    vienna = ZoneInfo("Europe/Vienna")
    start = datetime(2026, 11, 23, 16, 0, tzinfo=vienna)
    deadline = SlaClock(
        SlaSettings(timezone="Europe/Vienna", opens="07:00", closes="17:00")  # type: ignore[arg-type]
    ).deadline(start, Band.HIGH)[0]
    assert deadline.astimezone(vienna) == datetime(2026, 11, 24, 10, 0, tzinfo=vienna)


@pytest.mark.parametrize(
    ("sla", "problem"),
    [
        ({"state": "XY"}, "sla.state: unknown Bundesland 'XY'"),
        ({"timezone": "Europe/Atlantis"}, "sla.timezone: unknown time zone 'Europe/Atlantis'"),
        ({"days": ["mon", "montag"]}, "sla.days: unknown weekday 'montag'"),
        ({"opens": "18:00:00", "closes": "08:00:00"}, "sla: closes (08:00:00) must be after"),
        ({"hours": {"high": 0}}, "sla.hours.high: Input should be greater than 0"),
        ({"near": 1.5}, "sla.near: Input should be less than 1"),
        ({"max_hour": 24}, "sla.max_hour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_sla_setting_names_its_key(tmp_path: Path, sla: dict[str, Any], problem: str) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", {"sla": sla})
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    assert f"rufwacht.toml: {problem}" in str(raised.value)


def test_a_config_with_the_old_flat_sla_hours_says_what_replaced_it(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "rufwacht.toml", {"flagging": {"sla_hours": 24}})
    with pytest.raises(ConfigError, match=r"flagging: sla_hours was replaced by the \[sla\]"):
        load_settings(config)


def test_bundesland_codes_match_the_holidays_library() -> None:
    import holidays

    from monitor.settings import GERMAN_STATES

    assert set(GERMAN_STATES) == {s for s in holidays.Germany.subdivisions if len(s) == 2}
