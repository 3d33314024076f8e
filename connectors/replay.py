"""Replays posts from JSONL files: the demo feed, recorded traffic, or data from elsewhere."""

from __future__ import annotations

from pathlib import Path

from connectors.base import SourceSettings


class ReplaySettings(SourceSettings):
    path: Path | None = None
    fallback: bool = False
