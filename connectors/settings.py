"""The `[sources.NAME]` settings of every connector, apart from the connectors themselves.

Reading the config must not import tweepy, praw or requests (seconds at start-up), so the
settings classes live here and each connector module imports its own from this module.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from connectors.base import SourceSettings

if TYPE_CHECKING:
    from connectors.retry import RetryPolicy

X_HOST = "https://api.twitter.com"
"""The host tweepy hard-codes; requests to it are re-routed to `api_base_url`."""
SEARCH_WINDOW = timedelta(days=7)
SUBREDDIT_NAME = re.compile(r"[A-Za-z0-9_]{2,21}")


def _http_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return url.rstrip("/")


HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""An http(s) base URL without trailing slash (API hosts, proxies, test servers)."""


class ReplaySettings(SourceSettings):
    path: Path | None = None
    fallback: bool = False


class LiveSourceSettings(SourceSettings):
    """Keys the network sources (X, Reddit) share."""

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
        """Imported here: only a running connector retries, and tenacity is not free."""
        from connectors.retry import RetryPolicy

        return RetryPolicy(
            attempts=self.max_attempts,
            max_rate_limit_wait=self.max_rate_limit_wait_minutes * 60,
        )

    @property
    def publishes(self) -> bool:
        """Whether replies really go out, so write credentials are needed."""
        return self.reply_enabled and not self.dry_run


class TwitterSettings(LiveSourceSettings):
    bearer_token_env: str = "TWITTER_BEARER_TOKEN"
    api_base_url: HttpUrl = X_HOST
    backfill_hours: float = Field(default=24, gt=0, le=SEARCH_WINDOW / timedelta(hours=1))
    language: str = "de"
    """The `lang:` operator of every query; empty searches all languages."""
    max_query_length: int = Field(default=512, ge=64, le=4096)
    """X allows 512 characters per query (4096 with Pro access)."""
    page_size: int = Field(default=100, ge=10, le=100)
    api_key_env: str = "TWITTER_API_KEY"
    api_secret_env: str = "TWITTER_API_SECRET"
    access_token_env: str = "TWITTER_ACCESS_TOKEN"
    access_token_secret_env: str = "TWITTER_ACCESS_TOKEN_SECRET"


class RedditSettings(LiveSourceSettings):
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    user_agent: str = Field(default="rufwacht/0.1", min_length=7)
    subreddits: list[str] = Field(default_factory=lambda: ["de"], min_length=1)
    oauth_url: HttpUrl = "https://oauth.reddit.com"
    reddit_url: HttpUrl = "https://www.reddit.com"
    streams: list[Literal["comments", "submissions"]] = Field(default_factory=list)
    """New comments/submissions of the subreddits, kept if they name a brand term."""
    page_size: int = Field(default=100, ge=1, le=1000)
    username_env: str = "REDDIT_USERNAME"
    password_env: str = "REDDIT_PASSWORD"

    @field_validator("subreddits")
    @classmethod
    def _subreddit_names(cls, names: list[str]) -> list[str]:
        cleaned = [name.removeprefix("r/") for name in names]
        if bad := [name for name in cleaned if not SUBREDDIT_NAME.fullmatch(name)]:
            raise ValueError(f"not subreddit names: {', '.join(bad)}")
        return cleaned
