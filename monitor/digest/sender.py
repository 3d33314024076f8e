"""Handing a finished mail to a mail server: the one interface the digest and the alerts share.

`MailSender` is all a caller needs; `SmtpSender` speaks SMTP per `MailSettings` (plain,
STARTTLS or implicit TLS, optional login from environment variables) and retries what a
server calls temporary (4xx, a dropped or refused connection) with exponential backoff.
Whatever it cannot deliver ends as one `DeliveryError` that names the server and the reason,
so a caller records it instead of losing the mail silently. `FileSender` writes `.eml` files,
for trying a template or a config without a server.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from monitor.logs import redact, register_secrets
from monitor.settings import MailSettings

log = logging.getLogger(__name__)


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver `message` (its own From/To) or raise `DeliveryError`."""


class DeliveryError(Exception):
    """A mail was not delivered; the message names the server and why (never a password)."""


def transient(exc: BaseException) -> bool:
    """Worth another try: the server said "later" (4xx) or the connection failed or dropped."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError)


def reason(exc: BaseException) -> str:
    """A short reason for the record and the log: the SMTP code and text, or the OS error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{address}: {code} {_text(message)}"
            for address, (code, message) in exc.recipients.items()
        )
        return f"recipients refused ({refused})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return redact(str(exc) or type(exc).__name__)


def _text(message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return redact(" ".join(text.split()))


def _wait_backoff(first: float) -> Callable[[RetryCallState], float]:
    """`first` seconds before the second try, doubling after each further failure."""
    return lambda state: first * 2 ** (state.attempt_number - 1)


class SmtpSender:
    """Delivers through the SMTP server `MailSettings` names, retrying temporary failures."""

    def __init__(
        self,
        settings: MailSettings,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self._environ = os.environ if environ is None else environ
        self._sleep = sleep
        self.where = f"{settings.smtp_host}:{settings.smtp_port}"

    def send(self, message: EmailMessage) -> None:
        login = self._login()
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retry_attempts),
            wait=_wait_backoff(self.settings.retry_backoff_seconds),
            retry=retry_if_exception(transient),
            before_sleep=self._log_retry,
            reraise=True,
            **({"sleep": self._sleep} if self._sleep else {}),
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._send_once(message, login)
        except (smtplib.SMTPException, OSError) as exc:
            tries = retrying.statistics.get("attempt_number", 1)
            raise DeliveryError(
                f"mail server {self.where} ({self.settings.smtp_security}): {reason(exc)}"
                f" (gave up after {tries} {'try' if tries == 1 else 'tries'})"
            ) from exc
        log.info("mail %r handed to %s", message["Subject"], self.where)

    def _login(self) -> tuple[str, str] | None:
        """The user and password from the named variables; none named: no login."""
        user_env, password_env = self.settings.smtp_user_env, self.settings.smtp_password_env
        if not user_env:
            return None
        user, password = self._environ.get(user_env, ""), self._environ.get(password_env, "")
        missing = [
            name for name, value in ((user_env, user), (password_env, password)) if not value
        ]
        if missing:
            raise DeliveryError(
                f"mail server {self.where}: login configured but {', '.join(missing)} "
                "not set in the environment"
            )
        register_secrets(password)
        return user, password

    def _context(self) -> ssl.SSLContext:
        ca_file = self.settings.smtp_ca_file
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
        if settings.smtp_security == "ssl":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._context())
        smtp = smtplib.SMTP(host, port, timeout=timeout)
        if settings.smtp_security == "starttls":
            try:
                smtp.starttls(context=self._context())
            except smtplib.SMTPNotSupportedError as exc:
                smtp.close()
                raise smtplib.SMTPNotSupportedError(
                    "the server does not offer STARTTLS (smtp_security = 'starttls')"
                ) from exc
        return smtp

    def _send_once(self, message: EmailMessage, login: tuple[str, str] | None) -> None:
        with self._connect() as smtp:
            if login:
                smtp.login(*login)
            refused = smtp.send_message(message)
        if refused:  # the others got it: a retry would send theirs twice
            log.warning("mail %r: %s refused %s", message["Subject"], self.where, refused)

    def _log_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "mail server %s, try %d: %s; trying again",
            self.where,
            state.attempt_number,
            reason(exc) if exc else "?",
        )


class FileSender:
    """Writes each mail as an `.eml` file into a folder (a mail client opens it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}.eml"
        try:
            path.write_bytes(message.as_bytes())
        except OSError as exc:
            raise DeliveryError(f"cannot write {path}: {exc.strerror}") from exc
