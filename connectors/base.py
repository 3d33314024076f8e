"""What every connector produces, and the small contract it fulfils.

A connector turns one platform's payloads into normalised `Post` objects and yields them in
pages, each page carrying the cursor that is valid once that page is stored. The monitor
commits a page's posts and its cursor in one transaction, so a crash between fetch and commit
re-fetches a page instead of skipping it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Cursor = dict[str, Any]
"""A connector's own position state (e.g. one `since_id` per query), stored as JSON."""


class Author(BaseModel):
    """The account behind a post, with the behaviour signals the troll model reads."""

    model_config = ConfigDict(extra="forbid")

    platform_id: str | None = None
    handle: str = Field(min_length=1, max_length=200)
    display_name: str | None = None
    created_at: datetime | None = None
    account_age_days: int | None = Field(default=None, ge=0)
    followers: int | None = Field(default=None, ge=0)
    posts_last_24h: int | None = Field(default=None, ge=0)

    @property
    def key(self) -> str:
        """Identity on its platform: the stable id where the platform gives one."""
        return self.platform_id or self.handle.lstrip("@").casefold()


MAX_TEXT_CHARS = 20_000
"""Longer texts are refused: no platform allows them, so such a payload is broken or hostile."""


class Post(BaseModel):
    """A post normalised across platforms; `(platform, platform_id)` identifies it."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=32)
    platform_id: str = Field(min_length=1, max_length=128)
    text: str = Field(max_length=MAX_TEXT_CHARS)
    url: str | None = None
    language: str | None = None
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    author: Author | None = None
    metrics: dict[str, int] = Field(default_factory=dict)
    parent_id: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)


@dataclass
class Page:
    """Posts fetched together, and the cursor to store once they are committed."""

    posts: list[Post]
    cursor: Cursor
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SearchTerms:
    """What platform searches ask for, taken from the `[[brands]]` and `[keywords]` config.

    Platform queries only narrow the stream; the monitor's matcher decides what matched.
    """

    brands: tuple[str, ...]
    keywords: tuple[str, ...]
    exclude: tuple[str, ...] = ()


class SourceError(Exception):
    """A source cannot be polled now (bad credentials, broken payload); others keep running."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class Connector(ABC):
    """Fetches posts from one platform, newer than a stored cursor."""

    platform: ClassVar[str]

    def __init__(self, source: str) -> None:
        self.source = source

    @classmethod
    @abstractmethod
    def from_settings(
        cls, source: str, settings: Any, terms: SearchTerms, environ: Mapping[str, str]
    ) -> Connector:
        """Build the connector; raise `SourceError` naming any missing credential variable."""

    @abstractmethod
    def fetch(self, cursor: Cursor) -> Iterator[Page]:
        """Yield pages of posts newer than `cursor`, oldest page first where the API allows."""


class SourceSettings(BaseModel):
    """Keys every `[sources.NAME]` table shares; each connector extends it with its own."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    interval_minutes: float = Field(default=5, gt=0, le=24 * 60)


def describe(exc: Exception) -> str:
    """One line naming what is wrong with a payload item, pydantic's field paths included."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]}"
    return str(exc)
