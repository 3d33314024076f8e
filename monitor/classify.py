"""`rufwacht classify`: JSONL posts in, the same posts with judgements out, no storage.

Lines are processed in batches for speed; a bad line becomes an error line naming its line
number and never stops the others. The posts read so far are each author's history, as the
stored posts are in the pipeline, so a stream classified here is judged as the queue judges it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any

from connectors.base import Post, describe
from connectors.replay import post_from_record
from monitor.history import AuthorHistory
from monitor.judging import Judge, Judgement, Subject, triage_data
from monitor.queue.priority import engagement
from monitor.scoring import author_signals


def classify_lines(lines: Iterable[str], judge: Judge) -> Iterator[dict[str, Any]]:
    """Yield one output object per non-blank input line, in input order."""
    history = AuthorHistory()
    numbered = ((n, line) for n, line in enumerate(lines, start=1) if line.strip())
    while batch := list(islice(numbered, judge.batch_size)):
        parsed = [_parse(n, line) for n, line in batch]
        posts = [post for _, post in parsed if post is not None]
        judged = iter(judge.judge([_subject(post) for post in posts], history))
        for record, post in parsed:
            yield record if post is None else _result(record, next(judged))


def _subject(post: Post) -> Subject:
    key = (post.platform, post.author.key) if post.author else None
    return Subject(
        post.text, post.created_at, author_signals(post.author), key, engagement(post.metrics)
    )


def _parse(line_no: int, line: str) -> tuple[dict[str, Any], Post | None]:
    try:
        record = json.loads(line)
        return record, post_from_record(record, default_platform="unknown")
    except json.JSONDecodeError as exc:
        return {"line": line_no, "error": f"not valid JSON: {exc.msg}"}, None
    except ValueError as exc:  # pydantic's ValidationError is one
        return {"line": line_no, "error": describe(exc)}, None


def _result(record: dict[str, Any], judged: Judgement) -> dict[str, Any]:
    sentiment, troll = judged.sentiment, judged.troll
    return {
        **record,
        "sentiment": {
            "label": sentiment.label,
            "scores": sentiment.scores,
            "model_version": sentiment.model_version,
        },
        "troll": {
            "score": troll.score,
            "is_troll": troll.is_troll,
            "threat": troll.threat,
            "reasons": troll.reasons,
            "model_version": troll.model_version,
        },
        "spam": {"is_spam": bool(judged.spam), "reasons": judged.spam},
        "matches": asdict(judged.match),  # brands, keywords, spans
        **triage_data(judged),  # category, action, guideline
        "flagged": judged.verdict.flagged,
        "priority": judged.verdict.priority,
        "model_version": f"{sentiment.model_version}+{troll.model_version}",
    }
