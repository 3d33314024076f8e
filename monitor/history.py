"""An author's recent behaviour from storage: the troll model's memory."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from classifiers.troll import HistorySignals
from monitor.storage.models import PostRecord

WINDOW = timedelta(days=7)
MAX_POSTS = 200
NEAR_DUPLICATE_OVERLAP = 0.7
_WORD = re.compile(r"\w+")
_LINK_OR_MENTION = re.compile(r"https?://\S+|@\w+")


def author_history(session: Session, post: PostRecord) -> HistorySignals:
    """What the same author posted in the week before `post` (posts already flushed)."""
    if post.author_id is None or post.text is None:
        return HistorySignals()
    earlier = session.scalars(
        select(PostRecord)
        .options(selectinload(PostRecord.scores))
        .where(
            PostRecord.author_id == post.author_id,
            PostRecord.id != post.id,
            PostRecord.created_at >= post.created_at - WINDOW,
            PostRecord.created_at <= post.created_at,
            PostRecord.text.is_not(None),
        )
        .order_by(PostRecord.created_at.desc())
        .limit(MAX_POSTS)
    ).all()
    about_brand = [p for p in earlier if set(p.matched_brands) & set(post.matched_brands)]
    hostile = sum(1 for p in about_brand if _is_hostile(p))
    words = _words(post.text)
    return HistorySignals(
        recent_brand_posts=len(about_brand),
        negative_or_offensive_share=hostile / len(about_brand) if about_brand else 0.0,
        near_duplicates=sum(
            1 for p in earlier if _overlap(words, _words(p.text or "")) >= NEAR_DUPLICATE_OVERLAP
        ),
    )


def _is_hostile(post: PostRecord) -> bool:
    return any(
        (s.task == "sentiment" and s.label == "negative")
        or (s.task == "offensive" and s.label == "offensive")
        for s in post.scores
    )


def _words(text: str) -> set[str]:
    return set(_WORD.findall(_LINK_OR_MENTION.sub(" ", text).casefold()))


def _overlap(a: set[str], b: set[str]) -> float:
    """Jaccard overlap of word sets: robust to a changed word or reordered phrase."""
    return len(a & b) / len(a | b) if a and b else 0.0
