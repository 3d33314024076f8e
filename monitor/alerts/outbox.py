"""Delivering the outbox: each pending message is claimed, sent outside any transaction,
then recorded as sent, or as failed with a redacted error and a later retry.

A claim is an UPDATE that only one deliverer can win, and it expires, so a deliverer that
dies mid-send leaves its message to the next one: at most one duplicate, never a loss. The
webhook's address holds a secret and appears in no error, log or stored text."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from monitor.alerts.messages import alert_mail, chat_message
from monitor.alerts.records import Channel
from monitor.logs import MASK, redact
from monitor.settings import Settings
from monitor.storage.database import Database
from monitor.storage.models import AlertNotification, AlertRecord

if TYPE_CHECKING:
    from monitor.digest.sender import MailSender

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=5)
CLAIM = timedelta(minutes=10)
"""A claimed message not recorded within this long is offered again."""
WEBHOOK_TIMEOUT = 10.0


class WebhookError(Exception):
    """The chat server did not take the message; the text never contains its address."""


def post_webhook(url: str, payload: dict[str, str]) -> None:
    """POST the JSON payload to an incoming webhook; `WebhookError` unless it answers 2xx."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"chat webhook answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"chat webhook not reachable: {type(reason).__name__}") from None


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: list[str] = field(default_factory=list)


@dataclass
class Outbox:
    """What delivery needs: the settings (recipients, links, webhook), a mail sender from the
    digest's SMTP settings (None: mail is not set up) and the sender address."""

    db: Database
    settings: Settings
    mailer: MailSender | None
    mail_from: str | None
    webhook: Callable[[str, dict[str, str]], None] = post_webhook

    def deliver(self, at: datetime | None = None) -> DeliveryReport:
        """Send every message that is due; never raises for a failed delivery."""
        at = at or datetime.now(UTC)
        report = DeliveryReport()
        for notification_id in self._due(at):
            if not self._claim(notification_id, at):
                continue  # another deliverer took it
            problem = self._send(notification_id)
            self._record(notification_id, problem, at)
            if problem is None:
                report.sent += 1
            else:
                report.failed.append(problem)
        return report

    def _due(self, at: datetime) -> list[int]:
        query = select(AlertNotification.id).where(
            AlertNotification.status.in_(["pending", "sending"]),
            AlertNotification.next_attempt_at <= at,
        )
        with self.db.transaction() as session:
            return list(session.scalars(query.order_by(AlertNotification.id)))

    def _claim(self, notification_id: int, at: datetime) -> bool:
        with self.db.transaction() as session:
            claimed = session.execute(
                update(AlertNotification)
                .where(
                    AlertNotification.id == notification_id,
                    AlertNotification.status.in_(["pending", "sending"]),
                    AlertNotification.next_attempt_at <= at,
                )
                .values(
                    status="sending",
                    attempts=AlertNotification.attempts + 1,
                    next_attempt_at=at + CLAIM,
                )
                .execution_options(synchronize_session=False)
            )
            return claimed.rowcount == 1  # type: ignore[attr-defined]

    def _send(self, notification_id: int) -> str | None:
        """Send one message; the problem, redacted, or None when it went out."""
        with self.db.transaction() as session:
            notification = session.get_one(AlertNotification, notification_id)
            alert: AlertRecord = notification.alert
            channel = notification.channel
            message = self._mail(alert) if channel == Channel.MAIL else None
            payload = chat_message(alert, self.settings) if channel == Channel.WEBHOOK else {}
        try:
            if channel == Channel.MAIL:
                if self.mailer is None or message is None:
                    return "mail is not set up ([digest] sender, SMTP settings, recipients)"
                self.mailer.send(message)
            else:
                url = self.settings.alerts.webhook_url
                if not url:
                    return "no [alerts] webhook_url"
                self.webhook(url, payload)
        except Exception as exc:  # any failure of a channel is recorded, never raised
            return self._describe(exc)
        return None

    def _mail(self, alert: AlertRecord) -> EmailMessage | None:
        recipients = self.settings.alerts.recipients_for(alert.brand)
        if not recipients or not self.mail_from:
            return None
        return alert_mail(alert, self.settings, self.mail_from, recipients)

    def _describe(self, exc: Exception) -> str:
        text = f"{type(exc).__name__}: {exc}"
        if url := self.settings.alerts.webhook_url:
            text = text.replace(url, MASK)
        return redact(text)[:500]

    def _record(self, notification_id: int, problem: str | None, at: datetime) -> None:
        with self.db.transaction() as session:
            notification = session.get_one(AlertNotification, notification_id)
            what = (notification.alert_id, notification.channel, problem)
            if problem is None:
                notification.status, notification.sent_at, notification.error = "sent", at, None
                return
            notification.error = problem
            if notification.attempts >= MAX_ATTEMPTS:
                notification.status = "failed"
                log.error("alert %d: %s gave up: %s", *what)
            else:
                notification.status = "pending"
                notification.next_attempt_at = at + FIRST_RETRY * 2 ** (notification.attempts - 1)
                log.warning("alert %d: %s failed, retrying: %s", *what)
