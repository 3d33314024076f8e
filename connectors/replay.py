"""Replays posts from JSONL files: the demo feed, recorded traffic, or exports from elsewhere.

Each line is one post with the fields `rufwacht classify` reads (`id`, `text`, optional
`platform`, `author`) plus `created_at` (with a time zone) and `url`; any other field is kept in
the raw payload. The cursor counts the lines consumed per file, so appended lines are picked up
later and nothing is replayed twice. A line that is not valid UTF-8 or not a valid post is
rejected on its own, naming the line; the lines around it are unaffected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.base import (
    Connector,
    Cursor,
    Page,
    Post,
    Rejected,
    SearchTerms,
    SourceError,
    describe,
)
from connectors.settings import ReplaySettings

PAGE_SIZE = 50
DEMO_FEED = "demo_feed"


def demo_feed_dir() -> Path:
    """The bundled German demo feed that ships inside the package."""
    return Path(str(resources.files("connectors").joinpath(DEMO_FEED)))


def post_from_record(record: Any, default_platform: str = "replay") -> Post:
    """Build a `Post` from one JSON object of the `classify`/replay line format.

    Raises `ValueError` (pydantic's `ValidationError` is one) naming what is wrong.
    """
    if not isinstance(record, Mapping):
        raise ValueError("expected a JSON object")
    if "id" not in record or "text" not in record:
        raise ValueError("a post needs the fields 'id' and 'text'")
    post_id = record["id"]
    if not isinstance(post_id, str | int) or isinstance(post_id, bool) or post_id == "":
        raise ValueError(f"id must be a non-empty string or a number, not {json.dumps(post_id)}")
    fields: dict[str, Any] = {
        "platform": str(record.get("platform") or default_platform),
        "platform_id": str(post_id),
        "text": record["text"],
        "url": record.get("url"),
        "language": record.get("language", "de"),
        "author": record.get("author"),
        "parent_id": record.get("parent_id"),
        "raw": dict(record),
    }
    if record.get("created_at"):
        fields["created_at"] = record["created_at"]
    return Post.model_validate(fields)


class ReplayConnector(Connector):
    platform = "replay"

    def __init__(self, source: str, path: Path) -> None:
        super().__init__(source)
        self.path = path

    @classmethod
    def from_settings(
        cls, source: str, settings: ReplaySettings, terms: SearchTerms, environ: Mapping[str, str]
    ) -> ReplayConnector:
        return cls(source, settings.path) if settings.path else DemoFeedConnector(source)

    def files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(self.path.glob("*.jsonl"))
        if self.path.is_file():
            return [self.path]
        raise SourceError(self.source, f"replay path {self.path} does not exist")

    @classmethod
    def reparse(cls, payload: str) -> Post:
        try:
            return post_from_record(json.loads(payload), cls.platform)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg}") from exc

    def fetch(self, cursor: Cursor) -> Iterator[Page]:
        for file in self.files():
            for page, line_no in self._pages(file, int(cursor.get(file.name, 0))):
                cursor = {**cursor, file.name: line_no}
                page.cursor = cursor
                yield page

    def _pages(self, file: Path, skip: int) -> Iterator[tuple[Page, int]]:
        """Pages of up to `PAGE_SIZE` posts with the number of the last line they cover."""
        page = Page(posts=[], cursor={})
        line_no = 0
        with file.open("rb") as handle:  # bytes: one bad byte must only cost its own line
            for line_no, line in enumerate(handle, start=1):
                if line_no <= skip or not line.strip():
                    continue
                try:
                    page.posts.append(self.reparse(line.decode("utf-8")))
                except UnicodeDecodeError as exc:
                    problem = f"invalid UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start})"
                    page.rejected.append(_rejected(file, line_no, problem, line))
                except (ValueError, ValidationError) as exc:
                    page.rejected.append(_rejected(file, line_no, describe(exc), line))
                if len(page.posts) >= PAGE_SIZE:
                    yield page, line_no
                    page = Page(posts=[], cursor={})
        if page.posts or page.rejected:
            yield page, line_no


def _rejected(file: Path, line_no: int, problem: str, line: bytes) -> Rejected:
    payload = line.decode("utf-8", errors="backslashreplace").rstrip("\r\n")
    return Rejected(f"{file.name} line {line_no}", problem, payload)


DEMO_FEED_START = datetime(2026, 11, 17, tzinfo=UTC)
DEMO_FEED_SPAN = timedelta(days=7)
"""The week the bundled feed was written for (tests/test_demo_feed.py keeps it inside)."""
DEMO_LOOKBACK = timedelta(hours=30)


def demo_created_at(feed_time: datetime, now: datetime) -> datetime:
    """A bundled demo post's time moved into the 30 hours before `now`, order kept.

    As written (a week in November 2026) every demo queue item would be overdue or far in
    the future; squeezed into the last 30 hours the queue looks like a real morning: the
    newest post minutes old and due within hours, the oldest past the 24-hour cap, overdue.
    """
    share = (feed_time - DEMO_FEED_START) / DEMO_FEED_SPAN
    return now - DEMO_LOOKBACK * (1 - share)


class DemoFeedConnector(ReplayConnector):
    """The bundled demo feed, dated relative to the moment it is replayed."""

    def __init__(self, source: str) -> None:
        super().__init__(source, demo_feed_dir())

    def fetch(self, cursor: Cursor) -> Iterator[Page]:
        now = datetime.now(UTC)
        for page in super().fetch(cursor):
            posts = [
                post.model_copy(update={"created_at": demo_created_at(post.created_at, now)})
                for post in page.posts
            ]
            yield replace(page, posts=posts)
