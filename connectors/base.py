"""What every connector produces, and the small contract it fulfils.

A connector turns one platform's payloads into normalised `Post` objects and yields them in
pages, each page carrying the cursor that is valid once that page is stored. The monitor
commits a page's posts and its cursor in one transaction, so a crash between fetch and commit
re-fetches a page instead of skipping it.
"""

from __future__ import annotations

import json
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

Cursor = dict[str, Any]
"""A connector's own position state (e.g. one `since_id` per query), stored as JSON."""


KEPT_CONTROLS = frozenset("\n\t")


def clean_text(text: str) -> str:
    """Text as every database can store it: NUL, other control characters and lone surrogates
    removed, line ends unified. PostgreSQL refuses NUL and surrogates where SQLite takes them,
    so without this the two backends would store different posts."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isprintable():
        return text
    return "".join(
        char
        for char in text
        if char in KEPT_CONTROLS or unicodedata.category(char) not in ("Cc", "Cs")
    )


def clean_payload(value: Any) -> Any:
    """`clean_text` applied to every string in a JSON-like payload, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_text(str(k)): clean_payload(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_payload(v) for v in value]
    return value


CleanText = Annotated[str, AfterValidator(clean_text)]


MAX_COUNT = 2**31 - 1
"""Counts beyond a database INTEGER are broken payloads (no account has two billion followers)."""


class Author(BaseModel):
    """The account behind a post, with the behaviour signals the troll model reads."""

    model_config = ConfigDict(extra="forbid")

    platform_id: CleanText | None = None
    handle: Annotated[CleanText, Field(min_length=1, max_length=200)]
    display_name: CleanText | None = None
    created_at: AwareDatetime | None = None
    account_age_days: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    followers: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    posts_last_24h: int | None = Field(default=None, ge=0, le=MAX_COUNT)

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
    platform_id: Annotated[CleanText, Field(min_length=1, max_length=128)]
    text: Annotated[CleanText, Field(max_length=MAX_TEXT_CHARS)]
    url: CleanText | None = None
    language: Annotated[CleanText, Field(max_length=16)] | None = None
    created_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    author: Author | None = None
    metrics: dict[str, int] = Field(default_factory=dict)
    parent_id: CleanText | None = None
    raw: Annotated[dict[str, Any], AfterValidator(clean_payload)] = Field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    """A payload item that could not become a `Post`. The monitor quarantines it with its
    payload, so a poison item never stalls its source and is never silently dropped."""

    ref: str
    """Where it was: "tweet 12", "feed.jsonl line 60"."""
    problem: str
    payload: str
    """The item as received (JSON where it was JSON), for the operator and for a retry."""

    def __str__(self) -> str:
        return f"{self.ref}: {self.problem}"


def json_payload(item: Any, author: Mapping[str, Any] | None) -> str:
    """A payload item and its author's details as JSON text, for `read_payload` to take apart;
    values JSON cannot hold are written as their `str`."""
    return json.dumps({"item": item, "author": author}, ensure_ascii=False, default=str)


def read_payload(payload: str) -> tuple[Any, Mapping[str, Any] | None]:
    """The item and its author's details from a `json_payload`; `ValueError` if it is not one."""
    try:
        record = json.loads(payload)
        author = record.get("author")
        return record["item"], author if isinstance(author, Mapping) else None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a quarantined item: {describe(exc)}") from exc


@contextmanager
def as_value_errors() -> Iterator[None]:
    """A malformed payload's `KeyError` or `TypeError` as the `ValueError` callers handle."""
    try:
        yield
    except (KeyError, TypeError) as exc:
        raise ValueError(describe(exc)) from exc


@dataclass
class Page:
    """Posts fetched together, and the cursor to store once they are committed."""

    posts: list[Post]
    cursor: Cursor
    rejected: list[Rejected] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Problems of the page as a whole (e.g. a response without author details)."""

    @property
    def errors(self) -> list[str]:
        """Every problem of the page as one line each, page-wide notes first."""
        return [*self.notes, *map(str, self.rejected)]


@dataclass(frozen=True)
class SearchTerms:
    """What platform searches ask for, taken from the `[[brands]]` and `[keywords]` config.

    Platform queries only narrow the stream; the monitor's matcher decides what matched. Brand
    exclusions are not sent: they remove only the words they match, and a search's NOT would
    drop the whole post ("-dB" also drops "die DB streikt", searches ignore case).
    """

    brands: tuple[str, ...]
    keywords: tuple[str, ...]


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

    @classmethod
    @abstractmethod
    def reparse(cls, payload: str) -> Post:
        """Build the post from a quarantined `Rejected.payload` again (after a fix).

        Raises `ValueError` naming what is still wrong."""


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
