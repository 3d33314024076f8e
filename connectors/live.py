"""What the network sources (X, Reddit) share: credentials from the environment, settings for
back-fill, timeouts, retries and replies, the HTTP adapter, and payload error messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import requests
from pydantic import AfterValidator, Field
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from connectors.base import SourceError, SourceSettings
from connectors.retry import RetryPolicy


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return url.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""An http(s) base URL without trailing slash (API hosts, proxies, test servers)."""


class LiveSourceSettings(SourceSettings):
    backfill_hours: float = Field(default=24, gt=0, le=24 * 365)
    """How far back the first poll (empty cursor) reaches."""
    timeout_seconds: float = Field(default=30, gt=0, le=300)
    max_attempts: int = Field(default=4, ge=1, le=10)
    """Tries per request on server errors, timeouts and rate limits before the poll fails."""
    max_rate_limit_wait_minutes: float = Field(default=15, ge=0, le=120)
    """Longest wait for a rate limit to reset; a later reset fails this poll instead."""
    compliance_interval_minutes: float = Field(default=60, gt=0, le=7 * 24 * 60)
    """How often stored posts are re-checked upstream for deletion and edits."""
    reply_enabled: bool = False
    dry_run: bool = True
    """With replies enabled, only log what would be sent until this is switched off."""

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.max_attempts,
            max_rate_limit_wait=self.max_rate_limit_wait_minutes * 60,
        )

    @property
    def publishes(self) -> bool:
        """Whether replies really go out, so write credentials are needed."""
        return self.reply_enabled and not self.dry_run


def credential(environ: Mapping[str, str], source: str, variable: str, what: str) -> str:
    """The secret in `$variable`; missing or blank is a `SourceError` naming the variable."""
    value = environ.get(variable, "").strip()
    if not value:
        raise SourceError(source, f"{what} missing: set the environment variable {variable}")
    return value


class HttpAdapter(HTTPAdapter):
    """Enforces the configured timeout and optionally sends one host's requests elsewhere.

    Neither tweepy nor prawcore lets a caller choose the timeout, and tweepy hard-codes its
    host; a requests adapter on the client's own session is the one place to change both.
    """

    def __init__(self, timeout: float, rebase: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.timeout = timeout
        self.rebase = rebase

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.rebase and (request.url or "").startswith(self.rebase[0]):
            old, new = self.rebase
            request.url = new + (request.url or "")[len(old) :]
            # requests chose the environment's proxies for the old host; choose for the new.
            kwargs["proxies"] = get_environ_proxies(request.url)
        kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)
