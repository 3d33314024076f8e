"""Sending each configured digest once per day: due periods, the delivery record, catch-up.

The record (`digest_deliveries`, one row per digest and day) is written *before* the mail goes
out ("sending", committed) and again after ("sent", or "failed" with the reason). So:

- a failure is never silent: it is in the table and the log, and the next run (hourly, and
  the daily run) sends that day again, up to `CATCH_UP_DAYS` back;
- a day is never sent twice by two runs: claiming a row is one INSERT (unique per digest and
  day) or one compare-and-set UPDATE, and only the run whose statement changed the row sends;
- a crash between the server accepting the mail and the "sent" record leaves a "sending" row;
  after `CLAIM_TIMEOUT` the next run sends it again: at most one duplicate, never a gap. (SMTP
  offers no way to ask a server "did you get this?", so exactly-once is not possible; the
  order chosen errs towards a second mail, never towards none.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from monitor.digest.build import Digest, Period, SpikeProvider, all_brands, build_digest
from monitor.digest.render import RenderedDigest, compose, render
from monitor.digest.sender import DeliveryError, MailSender
from monitor.logs import redact
from monitor.settings import DigestMailSettings, Settings, WebSettings
from monitor.storage.database import Database
from monitor.storage.models import DigestDelivery

log = logging.getLogger(__name__)

CATCH_UP_DAYS = 7
"""A day whose digest never went out is sent late for this long; older ones are dropped."""
CLAIM_TIMEOUT = timedelta(minutes=30)
"""A "sending" row this old belongs to a run that died (sending takes seconds, retries with
the default backoff under a minute): the next run sends that day again."""


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """What one run did with one digest and day."""

    name: str
    day: date
    status: DeliveryStatus
    error: str | None = None


def spike_provider(web: WebSettings) -> SpikeProvider:
    """The day's spikes: the alerts opened that day (`monitor.alerts.queries.digest_spikes`),
    each linking to the alert list under `[web] base_url`."""
    from monitor.alerts.queries import digest_spikes

    return digest_spikes(web)


def digest_for(
    session: Session,
    settings: Settings,
    mail: DigestMailSettings,
    day: date,
    *,
    spikes: SpikeProvider | None = None,
    now: datetime | None = None,
) -> Digest:
    """The digest `mail` for `day`, from the database as it stands."""
    period = Period(day, settings.digest.timezone)
    configured = mail.brands or [brand.name for brand in settings.brands]
    brands = all_brands(session, configured, period)
    day_spikes = (
        list(spikes(session, brands, period.start, period.end)) if spikes is not None else None
    )
    return build_digest(
        session, mail.name, brands, period, settings.web, spikes=day_spikes, now=now
    )


def rendered_digest(
    db: Database,
    settings: Settings,
    mail: DigestMailSettings,
    day: date,
    spikes: SpikeProvider | None = None,
) -> RenderedDigest:
    with db.transaction() as session:
        digest = digest_for(session, settings, mail, day, spikes=spikes)
    return render(digest)


def latest_due_day(settings: Settings, now: datetime) -> date:
    """The newest day whose digest is due at `now`: yesterday once today's send time passed."""
    local = now.astimezone(settings.digest.zone)
    yesterday = local.date() - timedelta(days=1)
    return yesterday if local.time() >= settings.digest.time else yesterday - timedelta(days=1)


def due_days(session: Session, settings: Settings, name: str, now: datetime) -> list[date]:
    """The days `name` still owes, oldest first: the latest due day, and every day after the
    digest's first record within `CATCH_UP_DAYS` that was not sent. A new digest starts with
    yesterday at its first send time, not with a week of back issues."""
    latest = latest_due_day(settings, now)
    earliest = latest - timedelta(days=CATCH_UP_DAYS - 1)
    rows = session.scalars(select(DigestDelivery).where(DigestDelivery.name == name)).all()
    zone = settings.digest.zone
    by_day = {row.period_start.astimezone(zone).date(): row for row in rows}
    if not by_day and latest < now.astimezone(zone).date() - timedelta(days=1):
        return []  # a new digest's first mail is yesterday's, once today's send time has come
    first = min(by_day, default=latest)
    days = [earliest + timedelta(days=n) for n in range(CATCH_UP_DAYS)]
    return [
        day
        for day in days
        if day >= first and (day not in by_day or by_day[day].status != DeliveryStatus.SENT)
    ]


def claim(
    db: Database, name: str, period: Period, recipients: Sequence[str], now: datetime
) -> bool:
    """Mark `name` for `period` as being sent by this run; False when another run has it or
    it went out already. Committed before anything is sent."""
    try:
        with db.transaction() as session:
            row = session.scalars(
                select(DigestDelivery).where(
                    DigestDelivery.name == name, DigestDelivery.period_start == period.start
                )
            ).one_or_none()
            if row is None:
                session.add(
                    DigestDelivery(
                        name=name,
                        period_start=period.start,
                        period_end=period.end,
                        status=DeliveryStatus.SENDING.value,
                        attempts=1,
                        recipients=list(recipients),
                        claimed_at=now,
                    )
                )
                return True
            if row.status == DeliveryStatus.SENT or (
                row.status == DeliveryStatus.SENDING
                and row.claimed_at is not None
                and now - row.claimed_at < CLAIM_TIMEOUT
            ):
                return False
            changed = session.execute(
                update(DigestDelivery)
                .where(
                    DigestDelivery.id == row.id,
                    DigestDelivery.status == row.status,
                    DigestDelivery.attempts == row.attempts,
                )
                .values(
                    status=DeliveryStatus.SENDING.value,
                    attempts=row.attempts + 1,
                    claimed_at=now,
                    recipients=list(recipients),
                )
                .execution_options(synchronize_session=False)
            )
            return bool(changed.rowcount)  # type: ignore[attr-defined]
    except IntegrityError:  # another run inserted the same digest and day first
        return False
    except OperationalError as exc:  # SQLite: another run's write won the race for the lock
        log.warning("digest %s for %s not claimed, left to the next run: %s", name, period.day, exc)
        return False


def finish(
    db: Database, name: str, period: Period, status: DeliveryStatus, error: str | None
) -> None:
    with db.transaction() as session:
        session.execute(
            update(DigestDelivery)
            .where(DigestDelivery.name == name, DigestDelivery.period_start == period.start)
            .values(
                status=status.value,
                last_error=error,
                sent_at=datetime.now(UTC) if status == DeliveryStatus.SENT else None,
            )
            .execution_options(synchronize_session=False)
        )


def deliver(
    db: Database,
    settings: Settings,
    mail: DigestMailSettings,
    day: date,
    sender: MailSender,
    *,
    spikes: SpikeProvider | None = None,
    now: datetime | None = None,
) -> Outcome | None:
    """Send `mail` for `day` unless it went out (or is going out) already; None then."""
    now = now or datetime.now(UTC)
    period = Period(day, settings.digest.timezone)
    if not claim(db, mail.name, period, mail.recipients, now):
        return None
    try:
        rendered = rendered_digest(db, settings, mail, day, spikes)
        sender.send(compose(rendered, settings.digest.sender, mail.recipients))
    except Exception as exc:  # recorded whatever it was: a digest never fails silently
        error = redact(str(exc)) if isinstance(exc, DeliveryError) else redact(repr(exc))
        finish(db, mail.name, period, DeliveryStatus.FAILED, error)
        log.error("digest %s for %s not sent: %s", mail.name, day, error)
        return Outcome(mail.name, day, DeliveryStatus.FAILED, error)
    finish(db, mail.name, period, DeliveryStatus.SENT, None)
    log.info("digest %s for %s sent to %d recipients", mail.name, day, len(mail.recipients))
    return Outcome(mail.name, day, DeliveryStatus.SENT)


def deliver_due(
    db: Database,
    settings: Settings,
    sender: MailSender,
    *,
    spikes: SpikeProvider | None = None,
    now: datetime | None = None,
) -> list[Outcome]:
    """Send every configured digest for every day it owes (the scheduler's job)."""
    now = now or datetime.now(UTC)
    outcomes = []
    for mail in settings.digest.digests():
        with db.transaction() as session:
            days = due_days(session, settings, mail.name, now)
        for day in days:
            outcome = deliver(db, settings, mail, day, sender, spikes=spikes, now=now)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def deliveries(db: Database, name: str | None = None) -> list[DigestDelivery]:
    """The delivery record, newest period first."""
    query = select(DigestDelivery).order_by(DigestDelivery.period_start.desc(), DigestDelivery.name)
    if name is not None:
        query = query.where(DigestDelivery.name == name)
    with db.transaction() as session:
        return list(session.scalars(query))


def chosen_mails(
    settings: Settings, name: str | None = None, brand: str | None = None
) -> list[DigestMailSettings]:
    """The digests a command means: all configured ones, the one called `name`, and with
    `brand` each narrowed to that brand (recorded under its own name, `NAME-BRAND`). Without
    any configured, one over all brands that nobody receives (for writing it to a file)."""
    mails = settings.digest.digests() or [DigestMailSettings(name="digest")]
    if name is not None:
        mails = [mail for mail in mails if mail.name == name]
        if not mails:
            known = ", ".join(mail.name for mail in settings.digest.digests()) or "none"
            raise ValueError(f"no digest named {name!r} (configured: {known})")
    if brand is None:
        return mails
    known_brands = [configured.name for configured in settings.brands]
    if known_brands and brand not in known_brands:
        raise ValueError(f"unknown brand {brand!r} (configured: {', '.join(known_brands)})")
    covering = [mail for mail in mails if not mail.brands or brand in mail.brands]
    if not covering:
        raise ValueError(f"no digest covers the brand {brand!r}")
    slug = "".join(char if char.isalnum() else "-" for char in brand.casefold())
    return [
        mail.model_copy(update={"name": f"{mail.name}-{slug}", "brands": [brand]})
        for mail in covering
    ]
