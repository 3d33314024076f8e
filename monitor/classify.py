"""`rufwacht classify`: JSONL posts in, the same posts with judgements out, no storage.

Lines are processed in batches for speed; a bad line becomes an error line naming its line
number and never stops the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from typing import Any

from classifiers.spam import spam_reasons
from classifiers.troll import HistorySignals
from connectors.base import Post, describe
from connectors.replay import post_from_record
from monitor.flagging import decide
from monitor.matching import Matcher
from monitor.scoring import PostScores, Scorer, author_signals
from monitor.settings import FlaggingSettings


def classify_lines(
    lines: Iterable[str],
    matcher: Matcher,
    scorer: Scorer,
    flagging: FlaggingSettings,
) -> Iterator[dict[str, Any]]:
    """Yield one output object per non-blank input line, in input order."""
    numbered = ((n, line) for n, line in enumerate(lines, start=1) if line.strip())
    while batch := list(islice(numbered, scorer.batch_size)):
        parsed = [_parse(n, line) for n, line in batch]
        posts = [(record, post) for record, post in parsed if post is not None]
        scores = scorer.score(
            [post.text for _, post in posts],
            [author_signals(post.author) for _, post in posts],
            [HistorySignals()] * len(posts),
        )
        judged = iter(scores)
        for record, post in parsed:
            if post is None:
                yield record
            else:
                yield _result(record, post, next(judged), matcher, flagging)


def _parse(line_no: int, line: str) -> tuple[dict[str, Any], Post | None]:
    try:
        record = json.loads(line)
        return record, post_from_record(record, default_platform="unknown")
    except json.JSONDecodeError as exc:
        return {"line": line_no, "error": f"not valid JSON: {exc.msg}"}, None
    except ValueError as exc:  # pydantic's ValidationError is one
        return {"line": line_no, "error": describe(exc)}, None


def _result(
    record: dict[str, Any],
    post: Post,
    scores: PostScores,
    matcher: Matcher,
    flagging: FlaggingSettings,
) -> dict[str, Any]:
    match = matcher.match(post.text)
    author = author_signals(post.author)
    spam = spam_reasons(post.text, author)
    verdict = decide(match, scores.sentiment, scores.troll, spam, author.followers, flagging)
    return {
        **record,
        "sentiment": {
            "label": scores.sentiment.label,
            "scores": scores.sentiment.scores,
            "model_version": scores.sentiment.model_version,
        },
        "troll": {
            "score": scores.troll.score,
            "is_troll": scores.troll.is_troll,
            "threat": scores.troll.threat,
            "reasons": scores.troll.reasons,
            "model_version": scores.troll.model_version,
        },
        "spam": {"is_spam": bool(spam), "reasons": spam},
        "matches": asdict(match),  # brands, keywords, spans
        "flagged": verdict.flagged,
        "priority": verdict.priority,
        "model_version": f"{scores.sentiment.model_version}+{scores.troll.model_version}",
    }
