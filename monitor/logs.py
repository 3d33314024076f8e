"""Logging set-up whose one job is that no secret ever leaves the process.

Every record reaches the root handler, the third-party libraries' included (tweepy logs
request headers at DEBUG), so redaction is a filter on that handler: it rewrites the formatted
message, exception text and stack of each record before any formatter sees them. Secrets are
recognised two ways: by shape (authorization headers, `*_token`/`*_secret`/`password` fields,
passwords in URLs) and by value (the credentials the config points at, registered at load).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote, unquote

from rich.console import Console
from rich.logging import RichHandler

if TYPE_CHECKING:
    from monitor.settings import Settings

MASK = "***"
NOISY_LOGGERS = ("apscheduler", "urllib3", "prawcore", "httpx", "alembic")

_SECRET_KEYS = (  # also as the end of a longer key: `reddit_password`, `access_token_secret`
    r"access_token|refresh_token|id_token|bearer_token|oauth_token|token_secret|oauth_signature"
    r"|api_key|api_secret|consumer_key|consumer_secret|client_secret|password|passwd"
)
_AUTHORIZATION = re.compile(
    r"""(?i)(\b(?:proxy-)?authorization\\?['"]?\s*[:=]\s*\\?['"]?)"""  # header name, dict key
    r"((?:bearer|basic|token|oauth|digest)\s+)?"  # the scheme, kept
    r"""[^'"\\\s,}]+"""
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)[\w\-.~+/]{8,}=*")
_SECRET_FIELD = re.compile(
    rf"""(?i)(?P<key>(?:{_SECRET_KEYS})\\?['"]?\s*[:=]\s*)"""  # JSON, dict repr, query, form
    r"""(?:(?P<q>\\"|"|')(?:\\.|[^\\])*?(?P=q)|[^\s&,;}\]'"\\]+)"""
)
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s/]+)(@)")

_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def register_secrets(*values: str) -> None:
    """Redact these exact values (and their URL-encoded forms) from now on."""
    global _known_pattern
    _known.update(form for value in values if value for form in (value, quote(value, safe="")))
    if _known:
        alternatives = sorted(_known, key=len, reverse=True)  # longest first: no partial leaks
        _known_pattern = re.compile("|".join(map(re.escape, alternatives)))


def protect_settings(settings: Settings, environ: Mapping[str, str]) -> None:
    """Register the credentials the config names (every source's `*_env` variable, the SMTP
    password), its DB password, the alerts' chat webhook (its path is the secret) and the
    labels export's salt."""
    credentials = [
        environ.get(variable, "").strip()  # as the connectors read it
        for _, source in settings.sources
        for key, variable in source
        if key.endswith("_env") and isinstance(variable, str)
    ]
    mail = settings.digest  # the SMTP login the digest and the alerts use
    credentials += [environ.get(mail.smtp_password_env, "")] if mail.smtp_user_env else []
    passwords = [unquote(m["password"]) for m in _URL_PASSWORD.finditer(settings.storage.url)]
    webhook = [settings.alerts.webhook_url] if settings.alerts.webhook_url else []
    salt = environ.get(settings.labels.salt_env, "").strip()  # the pseudonyms' secret
    register_secrets(*credentials, *passwords, *webhook, salt)


def redact(text: str) -> str:
    """`text` with every secret it contains replaced by `***`; for logs and stored error text."""
    if _known_pattern is not None:
        text = _known_pattern.sub(MASK, text)
    text = _AUTHORIZATION.sub(rf"\g<1>\g<2>{MASK}", text)
    text = _BEARER.sub(rf"\g<1>{MASK}", text)
    text = _SECRET_FIELD.sub(rf"\g<key>\g<q>{MASK}\g<q>", text)
    return _URL_PASSWORD.sub(rf"\g<1>{MASK}\g<3>", text)


_PLAIN = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Replaces a record's message, exception and stack text by their redacted forms."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed logging call; logging would print its args
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _PLAIN.formatException(record.exc_info)
        record.exc_info = None  # or a formatter would render the unredacted exception again
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and, if any, exc.

    `exc` is the traceback text `RedactingFilter` rendered (and redacted) from the exception.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when a record arrives (test runners swap it)."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr


def _redacting(handler: logging.Handler) -> bool:
    return any(isinstance(f, RedactingFilter) for f in handler.filters)


def setup_logging(log_format: LogFormat = LogFormat.text) -> None:
    """Send every record, at INFO and up, redacted to stderr.

    Handlers others put on the root logger stay (pytest's capture); libraries add none."""
    if log_format is LogFormat.json:
        handler: logging.Handler = _StderrHandler()
        handler.setFormatter(JsonFormatter())
    else:
        handler = RichHandler(console=Console(stderr=True), show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for previous in [h for h in root.handlers if _redacting(h)]:
        root.removeHandler(previous)  # a second call (tests, one process) replaces ours only
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
