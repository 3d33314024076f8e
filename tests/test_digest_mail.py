"""Acceptance: the digest delivered to a real SMTP server, read back as a mail client would.

Also: hostile post text stays text, a refusing server still gets one mail, a broken config
is a clear error that is recorded and retried, a day is never sent twice, missed days are
caught up, and the scheduler runs the digest daily at its local time.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from typer.testing import CliRunner

from monitor import scheduler
from monitor.cli import app
from monitor.digest.build import Spike
from monitor.digest.delivery import (
    CLAIM_TIMEOUT,
    DeliveryStatus,
    chosen_mails,
    deliver,
    deliver_due,
    deliveries,
)
from monitor.digest.sender import SmtpSender
from monitor.scheduler import DIGEST_DAILY, DIGEST_RETRY, build_scheduler, digest_jobs, sync_jobs
from monitor.settings import Settings, load_settings
from monitor.storage.database import Database
from monitor.storage.models import DigestDelivery
from tests import factories
from tests.conftest import write_config
from tests.fakes.smtp import SmtpServer, free_port
from tests.test_scheduler import with_pipeline

runner = CliRunner()
BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 23)
MORNING_AFTER = datetime(2026, 11, 24, 8, 5, tzinfo=BERLIN)
HOSTILE = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def seed(db: Database, day: date = DAY) -> None:
    """Deutsche Bahn: 3 mentions (2 flagged, one hostile) on `day`, 1 the day before;
    Telekom: 1 flagged mention on `day`."""
    with db.transaction() as session:
        session.add_all(
            [
                factories.mention(
                    at(day, 7), flagged=True, sentiment="negative", item={"priority": 88}
                ),
                factories.mention(
                    at(day, 9),
                    flagged=True,
                    sentiment="negative",
                    text=" ".join(HOSTILE),
                    item={"priority": 95},
                ),
                factories.mention(at(day, 12), sentiment="positive"),
                factories.mention(at(day - timedelta(days=1), 12)),
                factories.mention(
                    at(day, 10), brand="Telekom", flagged=True, item={"priority": 50}
                ),
            ]
        )


def config(tmp_path: Path, db_url: str, server: SmtpServer | None, **digest: object) -> Path:
    port = server.port if server else free_port()
    smtp: dict[str, object] = {
        "sender": "rufwacht@example.org",
        "recipients": ["presse@example.org", "social@example.org"],
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "starttls" if server and server.ca_file else "none",
        "retry_backoff_seconds": 0,
        "retry_attempts": 3,
        "smtp_timeout_seconds": 10,
    }
    if server and server.ca_file:
        smtp["smtp_ca_file"] = str(server.ca_file)
    return write_config(
        tmp_path / "rufwacht.toml",
        db_url,
        digest={**smtp, **digest},
        web={"base_url": "https://rufwacht.example.org"},
    )


def parts(message: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    """The plain text, the HTML and the inline images by Content-ID, as a client sees them."""
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()  # type: ignore[misc]
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    pngs = {}
    for image in images:
        assert image.get_content_type() == "image/png"
        pngs[image["Content-ID"].strip().strip("<>")] = image.get_content()
    return plain.get_content(), html_part.get_content(), pngs


@pytest.mark.parametrize("starttls", [False, True], ids=["plain", "starttls"])
def test_the_digest_arrives_with_both_parts_inline_charts_and_the_databases_figures(
    tmp_path: Path, db_url: str, db: Database, starttls: bool
) -> None:
    seed(db)
    with SmtpServer(tmp_path, starttls=starttls) as server:
        settings = load_settings(config(tmp_path, db_url, server))
        [outcome] = deliver_due(db, settings, SmtpSender(settings.digest), now=MORNING_AFTER)
    assert outcome.status == DeliveryStatus.SENT and outcome.day == DAY
    [mail] = server.messages
    assert mail["Subject"].startswith("Rufwacht-Tagesüberblick 23.11.2026")
    assert (
        "Deutsche Bahn, Telekom, Vodafone und 1 weitere: 4 Erwähnungen, 3 markiert"
        in (mail["Subject"])
    )
    assert mail["To"] == "presse@example.org, social@example.org"
    text, html, images = parts(mail)
    # every chart the HTML references is attached as a PNG, and nothing else is
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == set(images) and len(images) == 2 * 4  # two charts per brand
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    assert all(alt for alt in re.findall(r'<img [^>]*alt="([^"]*)"', html))
    # the figures of the database, in both parts, linked into the filtered queue
    assert "Erwähnungen: 3 (+2 zum Vortag" in text
    assert "Markiert:    2 (+2 zum Vortag" in text
    assert "negativ 2 (67 %), neutral 0 (0 %), positiv 1 (33 %)" in text
    assert '<a href="https://rufwacht.example.org/?brand=Deutsche+Bahn" ' in html
    bahn = html.split('id="marke-1"')[1].split('id="marke-2"')[0]
    assert re.search(r"Erwähnungen</td>\s*<td[^>]*><a [^>]*>3</a>", bahn)
    assert re.search(r"markiert</td>\s*<td[^>]*><a [^>]*>2</a>", bahn)
    assert [row.status for row in deliveries(db)] == ["sent"]


def test_hostile_post_text_is_shown_as_text(tmp_path: Path, db_url: str, db: Database) -> None:
    seed(db)
    with SmtpServer(tmp_path) as server:
        settings = load_settings(config(tmp_path, db_url, server))
        deliver_due(db, settings, SmtpSender(settings.digest), now=MORNING_AFTER)
    _, html, _ = parts(server.messages[0])
    assert "<script" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_server_refusing_twice_gets_the_digest_exactly_once(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    seed(db)
    with SmtpServer(tmp_path) as server:
        server.refuse_next(2)
        settings = load_settings(config(tmp_path, db_url, server))
        deliver_due(db, settings, SmtpSender(settings.digest), now=MORNING_AFTER)
        deliver_due(db, settings, SmtpSender(settings.digest), now=MORNING_AFTER)
    assert server.attempts == 3
    assert len(server.messages) == 1
    [row] = deliveries(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)


def test_a_broken_smtp_config_is_a_clear_error_recorded_and_retried_at_the_next_run(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    seed(db)
    broken = config(tmp_path, db_url, None)
    port = load_settings(broken).digest.smtp_port
    result = runner.invoke(
        app, ["digest", "--date", "2026-11-23", "--send", "--config", str(broken)]
    )
    assert result.exit_code == 1
    assert f"mail server 127.0.0.1:{port} (none)" in result.output
    assert "Connection refused" in result.output
    [row] = deliveries(db)
    assert (row.status, row.attempts) == ("failed", 1)
    assert f"127.0.0.1:{port}" in (row.last_error or "")
    shown = runner.invoke(app, ["digest", "--deliveries", "--config", str(broken)])
    assert re.search(r"digest\s+│\s+2026-11-23\s+│\s+failed\s+│\s+1\s+│", shown.output)
    with SmtpServer(tmp_path) as server:  # the server is back: the next run sends that day
        settings = load_settings(config(tmp_path, db_url, server))
        [outcome] = deliver_due(db, settings, SmtpSender(settings.digest), now=MORNING_AFTER)
    assert outcome.status == DeliveryStatus.SENT
    assert len(server.messages) == 1
    [row] = deliveries(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_login_without_its_password_variable_names_the_variable(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    with SmtpServer(tmp_path, starttls=True, login=("digest", "geheim")) as server:
        path = config(
            tmp_path,
            db_url,
            server,
            smtp_user_env="RW_TEST_SMTP_USER",
            smtp_password_env="RW_TEST_SMTP_PW",
        )
        result = runner.invoke(
            app,
            ["digest", "--date", "2026-11-23", "--send", "--config", str(path)],
            env={"RW_TEST_SMTP_USER": "digest"},
        )
    assert result.exit_code == 1
    assert "RW_TEST_SMTP_PW not set" in result.output
    assert server.messages == []


def test_the_same_day_is_never_sent_twice(tmp_path: Path, db_url: str, db: Database) -> None:
    seed(db)
    with SmtpServer(tmp_path) as server:
        path = config(tmp_path, db_url, server)
        command = ["digest", "--date", "2026-11-23", "--send", "--config", str(path)]
        first = runner.invoke(app, command)
        second = runner.invoke(app, command)
        settings = load_settings(path)
        assert deliver_due(db, settings, SmtpSender(settings.digest), now=MORNING_AFTER) == []
    assert first.exit_code == 0, first.output
    assert "Sent digest digest for 2026-11-23 to presse@example.org" in first.output
    assert second.exit_code == 0 and "sent already; not sent again" in second.output
    assert len(server.messages) == 1


def test_a_run_that_died_while_sending_is_sent_again_once_its_claim_is_stale(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    """The crash case: "sending" recorded, the mail maybe out, "sent" never recorded."""
    seed(db)
    with SmtpServer(tmp_path) as server:
        settings = load_settings(config(tmp_path, db_url, server))
        [mail] = chosen_mails(settings)
        sender = SmtpSender(settings.digest)
        deliver(db, settings, mail, DAY, sender, now=MORNING_AFTER)
        with db.transaction() as session:  # as if the process died before recording "sent"
            row = session.query(DigestDelivery).one()
            row.status, row.sent_at = DeliveryStatus.SENDING.value, None
        soon = MORNING_AFTER + CLAIM_TIMEOUT / 2
        assert deliver_due(db, settings, sender, now=soon) == []  # maybe still sending
        later = MORNING_AFTER + CLAIM_TIMEOUT + timedelta(minutes=1)
        [outcome] = deliver_due(db, settings, sender, now=later)
        assert deliver_due(db, settings, sender, now=later) == []
    assert outcome.status == DeliveryStatus.SENT
    assert len(server.messages) == 2  # one duplicate at most, never a gap


def test_the_scheduled_run_catches_up_missed_days_oldest_first(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    seed(db, DAY)
    seed(db, DAY + timedelta(days=1))
    with SmtpServer(tmp_path) as server:
        settings = load_settings(config(tmp_path, db_url, server))
        sender = SmtpSender(settings.digest)

        def run(day: int, hour: int, minute: int = 0) -> list[date]:
            now = datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)
            return [outcome.day for outcome in deliver_due(db, settings, sender, now=now)]

        assert run(24, 7, 59) == []  # a new digest waits for its first send time ...
        assert run(24, 8) == [date(2026, 11, 23)]  # ... and starts with yesterday
        assert run(24, 9) == []
        # the server was down on the 25th and 26th: the 27th's run sends the days missed
        assert run(27, 8) == [date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)]
    subjects = [message["Subject"][:34] for message in server.messages]
    assert subjects == [f"Rufwacht-Tagesüberblick {day}.11.2026" for day in (23, 24, 25, 26)]


def test_one_digest_per_brand_goes_to_its_own_recipients(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    seed(db)
    mails = [
        {"name": "bahn", "brands": ["Deutsche Bahn"], "recipients": ["bahn@example.org"]},
        {"name": "telekom", "brands": ["Telekom"]},  # falls back to [digest] recipients
    ]
    with SmtpServer(tmp_path) as server:
        settings = load_settings(config(tmp_path, db_url, server, mails=mails))
        deliver_due(db, settings, SmtpSender(settings.digest), now=MORNING_AFTER)
    by_to = {message["To"]: message for message in server.messages}
    assert set(by_to) == {"bahn@example.org", "presse@example.org, social@example.org"}
    assert "Deutsche Bahn: 3 Erwähnungen" in by_to["bahn@example.org"]["Subject"]
    assert "Telekom: 1 Erwähnungen" in by_to["presse@example.org, social@example.org"]["Subject"]


def test_spikes_from_the_provider_appear_in_the_mail(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    seed(db)

    def provider(session, brands, start, end):  # what the alerts will hand over
        return [
            Spike(
                "Deutsche Bahn",
                "Erwähnungen",
                start + timedelta(hours=9),
                None,
                140,
                12.5,
                "https://rufwacht.example.org/alerts/7",
            )
        ]

    with SmtpServer(tmp_path) as server:
        settings = load_settings(config(tmp_path, db_url, server))
        deliver_due(db, settings, SmtpSender(settings.digest), spikes=provider, now=MORNING_AFTER)
    text, html, _ = parts(server.messages[0])
    assert "SPITZE: Erwähnungen ab 09:00 Uhr, noch offen: 140 (üblich 12,5)" in text
    assert "https://rufwacht.example.org/alerts/7" in html


def test_the_cli_writes_the_same_digest_to_a_file(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    seed(db)
    path = config(tmp_path, db_url, None)
    html_file, eml_file = tmp_path / "digest.html", tmp_path / "digest.eml"
    for target in (html_file, eml_file):
        result = runner.invoke(
            app,
            [
                "digest",
                "--date",
                "2026-11-23",
                "--brand",
                "Telekom",
                "--out",
                str(target),
                "--config",
                str(path),
            ],
        )
        assert result.exit_code == 0, result.output
    html = html_file.read_text("utf-8")
    assert "Telekom" in html and "Deutsche Bahn" not in html
    assert "cid:" not in html and html.count("data:image/png;base64,") == 2
    assert b"Content-Type: multipart/alternative" in eml_file.read_bytes()
    assert deliveries(db) == []  # writing a file sends and records nothing


def test_an_unknown_brand_is_named(tmp_path: Path, db_url: str) -> None:
    path = config(tmp_path, db_url, None)
    result = runner.invoke(app, ["digest", "--brand", "Bundesbahn", "--config", str(path)])
    assert result.exit_code == 2
    assert "unknown brand 'Bundesbahn'" in result.output


def test_the_scheduler_runs_the_digest_daily_at_its_local_time(
    tmp_path: Path, settings: Settings
) -> None:
    digest = settings.digest.model_copy(update={"recipients": ["presse@example.org"]})
    jobs = digest_jobs(digest)
    assert set(jobs) == {DIGEST_DAILY, DIGEST_RETRY}
    assert digest_jobs(settings.digest) == {}  # nobody receives it: no job
    daily = jobs[DIGEST_DAILY]
    assert isinstance(daily, CronTrigger)
    winter = daily.get_next_fire_time(None, datetime(2026, 11, 23, 12, tzinfo=UTC))
    summer = daily.get_next_fire_time(None, datetime(2026, 7, 1, 12, tzinfo=UTC))
    assert winter == datetime(2026, 11, 24, 8, tzinfo=BERLIN)
    assert (winter.astimezone(UTC).hour, summer.astimezone(UTC).hour) == (7, 6)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    for _ in range(2):  # a restart keeps one job each
        jobs_scheduler = build_scheduler(Database(url).engine, workers=1)
        jobs_scheduler.start(paused=True)
        sync_jobs(jobs_scheduler, jobs)
        stored = {job.id: str(job.trigger) for job in jobs_scheduler.get_jobs()}
        jobs_scheduler.shutdown(wait=False)
    assert stored == {DIGEST_DAILY: "cron[hour='8', minute='0']", DIGEST_RETRY: "interval[1:00:00]"}


def test_the_scheduled_job_mails_yesterdays_digest_once(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    yesterday = datetime.now(BERLIN).date() - timedelta(days=1)
    seed(db, yesterday)
    with SmtpServer(tmp_path) as server:
        settings = load_settings(config(tmp_path, db_url, server, time="00:00"))
        with_pipeline(db_url, db)
        scheduler._digest[scheduler.DIGEST] = settings
        try:
            scheduler.digest_job("daily")
            scheduler.digest_job("retry")
        finally:
            scheduler._runtime.clear()
            scheduler._digest.clear()
    [mail] = server.messages
    assert f"Rufwacht-Tagesüberblick {yesterday:%d.%m.%Y}" in mail["Subject"]


def test_runs_racing_for_the_same_day_send_it_once(
    tmp_path: Path, db_url: str, db: Database
) -> None:
    """Two processes (here: threads with their own connections) run the digest at once."""
    seed(db)
    with SmtpServer(tmp_path) as server:
        settings = load_settings(config(tmp_path, db_url, server))
        [mail] = chosen_mails(settings)
        start = threading.Barrier(3)

        def run() -> object:
            own = Database(db_url)
            try:
                start.wait()
                return deliver(own, settings, mail, DAY, SmtpSender(settings.digest))
            finally:
                own.dispose()

        with ThreadPoolExecutor(3) as pool:
            outcomes = [future.result() for future in [pool.submit(run) for _ in range(3)]]
    assert [o.status for o in outcomes if o is not None] == [DeliveryStatus.SENT]
    assert len(server.messages) == 1
