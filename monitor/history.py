"""An author's recent behaviour, computed from their earlier posts: the troll model's memory.

One pure computation serves every caller: the pipeline loads the earlier posts from the
database, `rufwacht classify` keeps the posts it has read so far, so both see the same signals
for the same stream of posts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from classifiers.troll import HistorySignals

WINDOW = timedelta(days=7)
MAX_POSTS = 200
NEAR_DUPLICATE_OVERLAP = 0.7
_WORD = re.compile(r"\w+")
_LINK_OR_MENTION = re.compile(r"https?://\S+|@\w+")
HOSTILE_LABELS = {"sentiment": "negative", "offensive": "offensive"}


def is_hostile(labels: Mapping[str, str]) -> bool:
    """Whether a post's labels per task (sentiment, offensive) make it hostile."""
    return any(labels.get(task) == label for task, label in HOSTILE_LABELS.items())


@dataclass(frozen=True)
class PastPost:
    """What the history needs to know of one earlier post."""

    text: str
    created_at: datetime
    brands: tuple[str, ...]
    hostile: bool
    """Judged negative or offensive."""


class AuthorHistory:
    """Earlier posts per author (any hashable key: a stored author id, a platform + handle)."""

    def __init__(self) -> None:
        self._posts: defaultdict[Hashable, list[PastPost]] = defaultdict(list)

    def add(self, author: Hashable | None, post: PastPost) -> None:
        if author is not None:
            self._posts[author].append(post)

    def signals(
        self, author: Hashable | None, text: str, created_at: datetime, brands: Iterable[str]
    ) -> HistorySignals:
        """What the author posted in the week before this post."""
        if author is None:
            return HistorySignals()
        return history_signals(text, created_at, brands, self._posts.get(author, ()))


def history_signals(
    text: str, created_at: datetime, brands: Iterable[str], earlier: Iterable[PastPost]
) -> HistorySignals:
    """The signals of a post given its author's other posts (only the week before counts)."""
    recent = sorted(
        (p for p in earlier if created_at - WINDOW <= p.created_at <= created_at),
        key=lambda p: p.created_at,
        reverse=True,
    )[:MAX_POSTS]
    about_brand = [p for p in recent if set(p.brands) & set(brands)]
    hostile = sum(1 for p in about_brand if p.hostile)
    words = _words(text)
    return HistorySignals(
        recent_brand_posts=len(about_brand),
        negative_or_offensive_share=hostile / len(about_brand) if about_brand else 0.0,
        near_duplicates=sum(
            1 for p in recent if _overlap(words, _words(p.text)) >= NEAR_DUPLICATE_OVERLAP
        ),
    )


def _words(text: str) -> set[str]:
    return set(_WORD.findall(_LINK_OR_MENTION.sub(" ", text).casefold()))


def _overlap(a: set[str], b: set[str]) -> float:
    """Jaccard overlap of word sets: robust to a changed word or reordered phrase."""
    return len(a & b) / len(a | b) if a and b else 0.0
