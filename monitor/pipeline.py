"""The pipeline: store → match → score → flag → queue, one page per transaction.

A page's posts, their scores, queue items and the source's new cursor are committed together,
so a crash anywhere re-fetches that page on the next poll and the unique key on
(platform, platform_id) keeps every post stored exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlalchemy.orm import Session

from classifiers.base import Prediction
from classifiers.spam import spam_reasons
from classifiers.troll import TrollResult
from connectors.base import Connector, Page, SourceError, describe
from monitor.flagging import decide
from monitor.history import author_history
from monitor.logs import redact
from monitor.matching import Matcher
from monitor.quarantine import (
    POST_FORMAT,
    RetryOutcome,
    list_quarantined,
    mark_failed_again,
    quarantine,
    refused_post,
    reparse,
)
from monitor.queue import enqueue
from monitor.scoring import Scorer, author_signals
from monitor.settings import FlaggingSettings, Settings
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, QuarantinedItem, Score
from monitor.storage.posts import store_posts
from monitor.storage.source_states import load_cursor, mark_failing, save_cursor

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    source: str
    fetched: int = 0
    stored: int = 0
    flagged: int = 0
    quarantined: int = 0
    notes: list[str] = field(default_factory=list)
    """Problems of whole pages that cost no post (e.g. missing author details)."""
    failure: str | None = None


class Pipeline:
    def __init__(
        self, db: Database, matcher: Matcher, scorer: Scorer, flagging: FlaggingSettings
    ) -> None:
        self.db = db
        self.matcher = matcher
        self.scorer = scorer
        self.flagging = flagging
        self.stopping = threading.Event()
        """Set to end polls after their current page (a clean shutdown)."""

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> Pipeline:
        if not settings.brands:
            log.warning("no [[brands]] configured: no post will match or be queued")
        matcher = Matcher(settings.brands, settings.keywords.negative)
        return cls(db, matcher, Scorer.from_settings(settings), settings.flagging)

    def poll(self, connector: Connector) -> PollReport:
        """Fetch everything new from one source; a failing source never raises."""
        report = PollReport(connector.source)
        with self.db.transaction() as session:
            cursor = load_cursor(session, connector.source)
        try:
            for page in connector.fetch(cursor):
                self._ingest_page(connector, page, report)
                if self.stopping.is_set():
                    break
        except SourceError as exc:
            self._fail(report, exc.problem)
        except Exception as exc:  # a bug or an unexpected payload must not stop the others
            log.exception("%s: poll failed", connector.source)
            self._fail(report, f"unexpected error: {exc!r}")
        return report

    def _ingest_page(self, connector: Connector, page: Page, report: PollReport) -> None:
        """Store a page with its cursor; items that cannot be stored go to the quarantine."""
        source = connector.source
        for note in page.notes:
            log.warning("%s: %s", source, note)
        with self.db.transaction() as session:
            stored = store_posts(session, source, page.posts)
            refused = [refused_post(post, problem) for post, problem in stored.refused]
            quarantine(session, source, connector.platform, page.rejected)
            quarantine(session, source, POST_FORMAT, refused)
            flagged = self.analyse(session, stored.new)
            save_cursor(session, source, page.cursor)
        report.fetched += len(page.posts) + len(page.rejected)
        report.stored += len(stored.new)
        report.flagged += flagged
        report.quarantined += len(page.rejected) + len(refused)
        report.notes += page.notes

    def retry_quarantined(self, ids: Sequence[int] = ()) -> list[RetryOutcome]:
        """Read quarantined items again with today's code and store those that now pass."""
        with self.db.transaction() as session:
            items = list_quarantined(session, ids)
        return [self._retry(item) for item in items]

    def _retry(self, item: QuarantinedItem) -> RetryOutcome:
        try:
            post = reparse(item)
            with self.db.transaction() as session:
                stored = store_posts(session, item.source, [post])
                if stored.refused:
                    raise ValueError(stored.refused[0][1])
                self.analyse(session, stored.new)
                session.execute(delete(QuarantinedItem).where(QuarantinedItem.id == item.id))
        except ValueError as exc:
            problem = describe(exc)
            with self.db.transaction() as session:
                mark_failed_again(session.get_one(QuarantinedItem, item.id), problem)
            return RetryOutcome(item.id, item.ref, stored=False, problem=problem)
        return RetryOutcome(item.id, item.ref, stored=True)

    def _fail(self, report: PollReport, problem: str) -> None:
        log.error("%s: %s", report.source, problem)
        report.failure = redact(problem)  # `poll --once` prints it
        with self.db.transaction() as session:
            mark_failing(session, report.source, problem)

    def analyse(self, session: Session, posts: list[PostRecord]) -> int:
        """Match, score and flag freshly stored posts; returns how many were queued."""
        if not posts:
            return 0
        texts = [post.text or "" for post in posts]
        matches = [self.matcher.match(text) for text in texts]
        for post, match in zip(posts, matches, strict=True):
            post.matched_brands = match.brands
            post.matched_keywords = match.keywords
        judgements = self.scorer.judge(texts)
        for post, judgement in zip(posts, judgements, strict=True):
            session.add_all(
                [
                    _score_row(post, "sentiment", judgement.sentiment),
                    _score_row(post, "offensive", judgement.offensive),
                ]
            )
        session.flush()  # the history of later posts in this page sees the earlier ones
        histories = [author_history(session, post) for post in posts]
        authors = [author_signals(post.author) for post in posts]
        trolls = self.scorer.troll(texts, authors, histories, judgements)
        flagged = 0
        rows = zip(posts, texts, authors, matches, judgements, trolls, strict=True)
        for post, text, author, match, judgement, troll in rows:
            session.add(_troll_row(post, troll))
            spam = spam_reasons(text, author)
            verdict = decide(
                match, judgement.sentiment, troll, spam, author.followers, self.flagging
            )
            if verdict.flagged:
                enqueue(session, post, verdict, self.flagging.sla_hours)
                flagged += 1
        return flagged


def _score_row(post: PostRecord, task: str, prediction: Prediction) -> Score:
    return Score(
        post=post,
        task=task,
        label=prediction.label,
        score=prediction.scores[prediction.label],
        probabilities=prediction.scores,
        model_version=prediction.model_version,
    )


def _troll_row(post: PostRecord, troll: TrollResult) -> Score:
    return Score(
        post=post,
        task="troll",
        label="threat" if troll.threat else ("troll" if troll.is_troll else "not_troll"),
        score=troll.score,
        probabilities={"troll": troll.score},
        reasons=troll.reasons,
        model_version=troll.model_version,
    )
