"""Replays posts from JSONL files: the demo feed, recorded traffic, or exports from elsewhere.

Each line is one post with the fields `rufwacht classify` reads (`id`, `text`, optional
`platform`, `author`) plus `created_at` and `url`; any other field is kept in the raw payload.
The cursor counts the lines consumed per file, so appended lines are picked up later and
nothing is replayed twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connectors.base import (
    Connector,
    Cursor,
    Page,
    Post,
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
    fields: dict[str, Any] = {
        "platform": str(record.get("platform") or default_platform),
        "platform_id": str(record["id"]),
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
        return cls(source, settings.path or demo_feed_dir())

    def files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(self.path.glob("*.jsonl"))
        if self.path.is_file():
            return [self.path]
        raise SourceError(self.source, f"replay path {self.path} does not exist")

    def fetch(self, cursor: Cursor) -> Iterator[Page]:
        for file in self.files():
            for posts, errors, line_no in self._pages(file, int(cursor.get(file.name, 0))):
                cursor = {**cursor, file.name: line_no}
                yield Page(posts=posts, cursor=cursor, errors=errors)

    def _pages(self, file: Path, skip: int) -> Iterator[tuple[list[Post], list[str], int]]:
        posts: list[Post] = []
        errors: list[str] = []
        line_no = 0
        with file.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if line_no <= skip or not line.strip():
                    continue
                try:
                    posts.append(post_from_record(json.loads(line), self.platform))
                except (ValueError, ValidationError) as exc:
                    errors.append(f"{file.name} line {line_no}: {describe(exc)}")
                if len(posts) >= PAGE_SIZE:
                    yield posts, errors, line_no
                    posts, errors = [], []
        if posts or errors:
            yield posts, errors, line_no
