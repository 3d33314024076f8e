"""Spike and crisis alerts: the spike test on small and large counts, one alert per storm
across hourly checks, the crisis hook, and what a user sees of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import poisson
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from monitor import scheduler
from monitor.alerts.check import run_check
from monitor.alerts.intake import alert_on_item, forget_vanished
from monitor.alerts.outbox import Outbox
from monitor.alerts.queries import alerts_between, list_alerts
from monitor.alerts.stats import poisson_tail, spike_test
from monitor.cli import app
from monitor.digest.delivery import spike_provider
from monitor.digest.sender import SmtpSender
from monitor.pipeline import Pipeline
from monitor.settings import AlertSettings, Settings
from monitor.storage.database import Database
from monitor.storage.models import AlertNotification, AlertRecord, PostRecord
from tests import factories
from tests.conftest import NGRAM_CLASSIFIERS, write_config
from tests.fakes.chat import HOOK_PATH, FakeChat
from tests.fakes.server import Reply
from tests.fakes.smtp import SmtpServer
from tests.test_pipeline import ListConnector
from tests.test_scheduler import start_and_sync
from tests.web_team import new_item

runner = CliRunner()

BRAND = "Deutsche Bahn"
QUIET = "Vodafone"
START = datetime.fromisoformat("2026-11-23T09:00:00+00:00")
"""When the storm starts: the history lies in the eight days before."""
HOUR = timedelta(hours=1)
RULES = AlertSettings(recipients=["team@example.org"])


def post_about(
    brand: str,
    at: datetime,
    negative: bool = True,
    text: str = factories.COMPLAINT,
    priority: int = 40,
) -> PostRecord:
    """A judged post about `brand`: negative ones queued (with `priority`), as the pipeline
    leaves them."""
    sentiment = "negative" if negative else "positive"
    item = {"priority": priority} if negative else None
    return factories.mention(
        at, brand=brand, flagged=negative, sentiment=sentiment, text=text, item=item
    )


def seed_history(session: Session, brand: str, per_day: list[int], end: datetime) -> None:
    """`per_day[i]` negative posts spread over the 24 hours ending `end - i days`... oldest
    day last; posts are spaced evenly, so the history is flat within each day."""
    for day, count in enumerate(per_day):
        for n in range(count):
            at = end - timedelta(days=day) - timedelta(hours=24) * (n + 0.5) / count
            session.add(post_about(brand, at))
    session.flush()


def seed_storm(session: Session, brand: str, start: datetime, posts: int, hours: int) -> None:
    for n in range(posts):
        session.add(post_about(brand, start + hours * HOUR * (n + 0.5) / posts))
    session.flush()


def hourly(session: Session, brands: list[str], first: datetime, runs: int) -> None:
    for n in range(runs):
        run_check(session, RULES, brands, first + n * HOUR)


def spikes(session: Session) -> list[AlertRecord]:
    return list(session.scalars(select(AlertRecord).order_by(AlertRecord.id)))


# --- the statistic ----------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "mean"), [(4, 1.0), (30, 10.0), (5, 10.0), (1000, 900.0)])
def test_the_poisson_tail_is_exact(count: int, mean: float) -> None:
    assert poisson_tail(count, mean) == pytest.approx(poisson.sf(count - 1, mean), rel=1e-9)


def test_a_quiet_brand_going_from_one_post_a_day_to_four_is_no_storm() -> None:
    judged = spike_test(4, [1, 1, 0, 2, 1, 1, 1], k=2, min_count=20, p_value=0.001)
    assert not judged.spike
    assert judged.p_value > 0.01  # not even unlikely: Poisson noise of a mean of 1


def test_a_quiet_brand_is_no_storm_even_without_the_minimum_count() -> None:
    """The Poisson test alone keeps 1 → 4 from alerting: a k-sigma rule on a flat week's
    spread of zero would call it a storm."""
    assert not spike_test(4, [1] * 7, k=2, min_count=1, p_value=0.001).spike


def test_a_busy_brand_at_eight_times_its_mean_is_a_storm() -> None:
    judged = spike_test(80, [10, 12, 9, 11, 10, 8, 13], k=2, min_count=20, p_value=0.001)
    assert judged.spike
    assert judged.baseline == pytest.approx(73 / 7)


def test_one_stormy_day_in_the_week_does_not_hide_the_next_storm() -> None:
    """The spread is robust: one day at 200 among 10s barely moves it (the mean does move)."""
    assert spike_test(120, [10, 11, 9, 200, 10, 12, 10], k=2, min_count=20, p_value=0.001).spike


def test_a_usual_day_is_no_storm() -> None:
    assert not spike_test(14, [10, 12, 9, 11, 10, 8, 13], k=2, min_count=20, p_value=0.001).spike


# --- one alert per storm ----------------------------------------------------------------------


def test_a_storm_opens_one_alert_across_24_hourly_checks_and_closes_when_it_calms(
    db: Database,
) -> None:
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 8, START)
        seed_storm(session, BRAND, START, posts=90, hours=3)
        for n in range(24):
            run_check(session, RULES, [BRAND], START + (n + 1) * HOUR)
            if n == 0:
                opened = spikes(session)
                assert len(opened) == 1 and opened[0].closed_at is None
        alerts = spikes(session)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.kind == "spike" and alert.brand == BRAND
    assert alert.opened_at == START + HOUR
    assert alert.closed_at is not None and alert.closed_at <= START + 7 * HOUR
    assert alert.count >= 90  # it grew while the storm went on
    assert alert.baseline == pytest.approx(10, abs=1)
    assert len(alert.details["posts"]) == RULES.top_posts
    assert [term["term"] for term in alert.details["terms"]] == ["unzumutbar"]
    assert alert.details["terms"][0]["count"] >= 90
    with db.transaction() as session:
        notifications = session.scalars(select(AlertNotification)).all()
    assert [n.channel for n in notifications] == ["mail"]  # one message, at the opening


def test_a_flat_history_never_alerts(db: Database) -> None:
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 9, START + 24 * HOUR)
        hourly(session, [BRAND], START, 24)
        assert spikes(session) == []


def test_a_quiet_brand_with_tiny_counts_never_alerts(db: Database) -> None:
    with db.transaction() as session:
        seed_history(session, QUIET, [1, 0, 1, 1, 2, 1, 1, 0], START)
        seed_storm(session, QUIET, START, posts=4, hours=2)
        hourly(session, [QUIET], START, 24)
        assert spikes(session) == []


def test_a_storm_coming_back_within_the_cooldown_reopens_its_alert_silently(
    db: Database,
) -> None:
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 8, START)
        seed_storm(session, BRAND, START, posts=60, hours=2)
        seed_storm(session, BRAND, START + 6 * HOUR, posts=60, hours=2)
        hourly(session, [BRAND], START + HOUR, 12)
        alerts = spikes(session)
        assert len(alerts) == 1
        assert alerts[0].details.get("reopened") == 1
        assert len(session.scalars(select(AlertNotification)).all()) == 1


def test_alerts_between_gives_the_digest_the_days_spikes_within_its_brands(db: Database) -> None:
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 8, START)
        seed_storm(session, BRAND, START, posts=90, hours=3)
        hourly(session, [BRAND], START + HOUR, 3)
        day = START.replace(hour=0)
        found = alerts_between(session, day, day + 24 * HOUR, [BRAND])
        assert [(a["brand"], a["kind"], a["measure"]) for a in found] == [
            (BRAND, "spike", "negative")
        ]
        assert alerts_between(session, day, day + 24 * HOUR, ["DHL"]) == []
        assert alerts_between(session, day - 24 * HOUR, day, None) == []
        assert list_alerts(session, []) == []


# --- crisis, threat and reach: at once, in the queuing transaction ------------------------------

THREAT = "Dem nächsten Vodafone-Mitarbeiter, den ich sehe, polier ich die Fresse."


@pytest.fixture
def chat() -> Iterator[FakeChat]:
    server = FakeChat().start()
    yield server
    server.stop()


def alerting(settings: Settings, **rules: Any) -> Settings:
    """The settings with fast models, a mail recipient and these `[alerts]` keys."""
    alerts = settings.alerts.model_copy(update={"recipients": ["team@example.org"], **rules})
    classifiers = settings.classifiers.model_copy(update=NGRAM_CLASSIFIERS)
    return settings.model_copy(update={"alerts": alerts, "classifiers": classifiers})


def test_a_threat_opens_a_crisis_alert_as_it_is_queued(
    settings: Settings, db: Database, chat: FakeChat
) -> None:
    settings = alerting(settings, webhook_url=chat.hook_url)
    pipeline = Pipeline.from_settings(settings, db)
    pipeline.poll(ListConnector([[factories.post(THREAT)]]))
    with db.transaction() as session:
        [alert] = spikes(session)
        assert (alert.brand, alert.kind, alert.count) == ("Vodafone", "crisis", 1)
        assert alert.closed_at is None
        [post] = alert.details["posts"]
        assert post["text"] == THREAT
        # the messages wait in the outbox: the poll itself sent nothing
        assert sorted(n.channel for n in alert.notifications) == ["mail", "webhook"]
        assert {n.status for n in alert.notifications} == {"pending"}
    assert chat.messages() == []


def test_a_post_with_a_huge_audience_opens_a_reach_alert(settings: Settings, db: Database) -> None:
    pipeline = Pipeline.from_settings(alerting(settings, reach_threshold=50_000), db)
    loud = factories.post(author=factories.author(handle="promi", followers=2_000_000))
    pipeline.poll(ListConnector([[loud]]))
    with db.transaction() as session:
        [alert] = spikes(session)
        assert (alert.brand, alert.kind) == (BRAND, "reach")
        assert alert.details["posts"][0]["audience"] >= 2_000_000


# --- the command line, the outbox and the chat ------------------------------------------------

HOSTILE = (
    '<script>alert(1)</script> "><img src=x onerror=alert(2)> [klick](http://böse.example) @channel'
)


def test_24_hourly_runs_of_the_cli_open_one_alert_and_post_to_the_chat_once(
    tmp_path: Path, db_url: str, db: Database, chat: FakeChat
) -> None:
    config = write_config(tmp_path / "rufwacht.toml", db_url, alerts={"webhook_url": chat.hook_url})
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 8, START)
        seed_storm(session, BRAND, START, posts=89, hours=3)
        session.add(post_about(BRAND, START + HOUR / 2, text=HOSTILE))
    for n in range(24):
        at = (START + (n + 1) * HOUR).isoformat()
        result = runner.invoke(app, ["alerts", "run", "--at", at, "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert chat.hook_url not in result.output
    listed = runner.invoke(app, ["alerts", "list", "--json", "--config", str(config)])
    [alert] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert set(alert) >= {"id", "brand", "kind", "opened_at", "closed_at", "count", "baseline"}
    assert alert["brand"] == BRAND and alert["kind"] == "spike"
    assert alert["opened_at"] == (START + HOUR).isoformat()
    assert alert["closed_at"] is not None
    [message] = chat.messages()  # once, at the opening; not every hour
    assert set(message) == {"text"}
    text = message["text"]
    assert text.startswith("**Rufwacht-Alarm (Spitze):** Deutsche Bahn:")
    assert "[Eintrag " in text and "](http://127.0.0.1:8000/items/" in text
    assert "[Warteschlange Deutsche Bahn](http://127.0.0.1:8000/?brand=Deutsche+Bahn)" in text


def test_hostile_post_text_stays_text_in_the_chat_message(
    settings: Settings, db: Database, chat: FakeChat
) -> None:
    settings = alerting(settings, webhook_url=chat.hook_url, recipients=[])
    with db.transaction() as session:
        post = post_about("Vodafone", START, text=HOSTILE)
        session.add(post)
        session.flush()
        assert post.queue_item is not None and post.verdict is not None
        post.verdict.category = {"label": "crisis", "confidence": 0.9, "reasons": []}
        alert_on_item(session, post.queue_item, post.verdict, settings.alerts, START)
    report = Outbox(db, settings, None, None).deliver(START)
    assert report.sent == 1
    [message] = chat.messages()
    text = message["text"]
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text  # shown as the characters, not as markup
    assert "[klick]" not in text and "\\[klick\\]" in text  # no link the post's writer chose
    assert "@channel" not in text and "@\u200bchannel" in text  # nobody pinged


def test_a_failing_webhook_is_retried_later_and_its_address_never_recorded(
    settings: Settings, db: Database, chat: FakeChat, caplog: pytest.LogCaptureFixture
) -> None:
    settings = alerting(settings, webhook_url=chat.hook_url, recipients=[])
    chat.queue(HOOK_PATH, Reply(500, "kaputt"))
    with db.transaction() as session:
        item = new_item(session)
        verdict = factories.verdict(item.post, "crisis")
        session.add(verdict)
        alert_on_item(session, item, verdict, settings.alerts, START)
    first = Outbox(db, settings, None, None).deliver(START)
    assert (first.sent, first.failed) == (0, ["WebhookError: chat webhook answered HTTP 500"])
    assert Outbox(db, settings, None, None).deliver(START + timedelta(minutes=1)).sent == 0
    later = Outbox(db, settings, None, None).deliver(START + timedelta(minutes=6))
    assert later.sent == 1
    with db.transaction() as session:
        [notification] = session.scalars(select(AlertNotification)).all()
        assert (notification.status, notification.attempts) == ("sent", 2)
    assert len(chat.messages()) == 2  # the refused try and the delivery, nothing more
    assert all(chat.hook_url not in problem for problem in first.failed)
    assert "HTTP 500" in caplog.text and HOOK_PATH not in caplog.text


# --- the mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize("starttls", [False, True], ids=["plain", "starttls"])
def test_the_alert_mail_reaches_the_smtp_server_with_both_parts_and_links(
    settings: Settings, db: Database, tmp_path: Path, starttls: bool
) -> None:
    with SmtpServer(tmp_path, starttls=starttls) as server:
        mail = server.mail_settings()
        settings = alerting(settings, recipients=["presse@example.org"]).model_copy(
            update={"digest": settings.digest.model_copy(update=dict(mail))}
        )
        with db.transaction() as session:
            post = post_about("Vodafone", START, text=HOSTILE)
            session.add(post)
            session.flush()
            assert post.verdict is not None and post.queue_item is not None
            post.verdict.category = {"label": "crisis", "confidence": 0.9, "reasons": []}
            alert_on_item(session, post.queue_item, post.verdict, settings.alerts, START)
            item_id = post.queue_item.id
        report = Outbox(db, settings, SmtpSender(mail), mail.sender).deliver(START)
        assert report.sent == 1
        [received] = server.messages
    assert received["Subject"] == "Rufwacht-Alarm: Vodafone: Krise oder Drohung (1 Beitrag)"
    assert received["To"] == "presse@example.org"
    assert received["From"] == "rufwacht@example.org"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    link = f"http://127.0.0.1:8000/items/{item_id}"
    assert link in text and f'href="{link}"' in html
    assert "http://127.0.0.1:8000/?brand=Vodafone" in text
    assert "Wichtigste Beiträge" in text and "Wichtigste Beiträge" in html
    # the stranger's text: literal in the plain part, escaped in the HTML part
    assert "<script>alert(1)</script>" in text
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html


def test_without_a_week_of_history_no_spike_opens(db: Database) -> None:
    """A fresh install's first day is no storm: there is nothing to compare it with."""
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 6, START)
        seed_storm(session, BRAND, START, posts=90, hours=3)
        report = run_check(session, RULES, [BRAND], START + HOUR)
        assert not report.watched
        assert spikes(session) == []


def test_a_post_whose_reach_grows_after_queuing_alerts_once_at_the_next_check(
    db: Database,
) -> None:
    rules = AlertSettings(reach_threshold=50_000)
    with db.transaction() as session:
        post = post_about(BRAND, START)
        session.add(post)
        session.flush()
        assert run_check(session, rules, [BRAND], START + HOUR).opened == []
        post.metrics = {"retweet_count": 4_000, "like_count": 2_000}  # gone viral since
        session.flush()
        first = run_check(session, rules, [BRAND], START + 2 * HOUR)
        again = run_check(session, rules, [BRAND], START + 3 * HOUR)
        [alert] = spikes(session)
    assert first.opened == [alert.id] and again.opened == []
    assert (alert.kind, alert.count) == ("reach", 1)
    assert alert.details["posts"][0]["audience"] >= 60_000


def test_the_scheduler_checks_hourly_and_posts_a_new_storm_once(
    settings: Settings, db_url: str, db: Database, chat: FakeChat
) -> None:
    now = datetime.now(UTC)
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 8, now - 2 * HOUR)
        seed_storm(session, BRAND, now - 2 * HOUR, posts=90, hours=2)
    settings = alerting(settings, webhook_url=chat.hook_url, recipients=[])
    scheduler._alerting[scheduler.ALERTS] = Outbox(db, settings, None, None)
    try:
        scheduler.alert_check_job("check")
        scheduler.alert_check_job("check")
        scheduler.outbox_job("alerts")
    finally:
        scheduler._alerting.clear()
    assert len(chat.messages()) == 1
    assert start_and_sync(db_url, scheduler.ALERT_JOBS) == {"alerts:check": 60, "outbox:alerts": 1}


def test_a_crisis_alert_whose_posts_are_gone_is_forgotten(db: Database) -> None:
    """`rufwacht demo --reset` removes the demo's items; their alerts would link nowhere."""
    with db.transaction() as session:
        item = new_item(session)
        verdict = factories.verdict(item.post, "crisis")
        session.add(verdict)
        alert_on_item(session, item, verdict, RULES, START)
        kept = new_item(session)
        kept_verdict = factories.verdict(kept.post, "crisis", brand="DHL")
        kept.brand = "DHL"
        session.add(kept_verdict)
        alert_on_item(session, kept, kept_verdict, RULES, START)
        session.delete(item)
        session.flush()
        assert forget_vanished(session) == 1
        assert [alert.brand for alert in spikes(session)] == ["DHL"]


def test_the_digest_lists_the_days_spikes_with_links_to_them(
    settings: Settings, db: Database
) -> None:
    with db.transaction() as session:
        seed_history(session, BRAND, [10] * 8, START)
        seed_storm(session, BRAND, START, posts=90, hours=3)
        hourly(session, [BRAND], START + HOUR, 3)
        day = START.replace(hour=0)
        spikes_of = spike_provider(settings.web)
        [spike] = spikes_of(session, [BRAND, "DHL"], day, day + 24 * HOUR)
        assert spikes_of(session, ["DHL"], day, day + 24 * HOUR) == []
        assert spikes_of(session, [BRAND], day + 24 * HOUR, day + 48 * HOUR) == []
    assert (spike.brand, spike.kind, spike.opened_at) == (BRAND, "negative Beiträge", START + HOUR)
    assert spike.count >= 90 and spike.baseline == pytest.approx(10, abs=1)
    assert spike.link.startswith("http://127.0.0.1:8000/alerts#alarm-")
