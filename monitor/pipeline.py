"""The pipeline: store → judge → record the verdict → queue, one page per transaction.

A page's posts, their scores, verdicts, queue items and the new cursor are committed together,
so a crash anywhere re-fetches that page on the next poll and the unique key on
(platform, platform_id) keeps every post stored exactly once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from classifiers.base import Prediction
from classifiers.troll import TrollResult
from connectors.base import Connector, Page, SourceError, describe
from monitor.alerts.intake import alert_on_item
from monitor.history import WINDOW, AuthorHistory, PastPost, is_hostile
from monitor.judging import Judge, Judgement, Subject, trace
from monitor.logs import redact
from monitor.quarantine import (
    POST_FORMAT,
    RetryOutcome,
    list_quarantined,
    mark_failed_again,
    quarantine,
    refused_post,
    reparse,
)
from monitor.queue.intake import enqueue
from monitor.queue.priority import engagement
from monitor.queue.sla import SlaClock
from monitor.queue.workflow import reopen_on_new_post
from monitor.scoring import author_signals
from monitor.settings import AlertSettings, Settings
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, QuarantinedItem, Score, VerdictRecord
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
        self, db: Database, judge: Judge, clock: SlaClock, alerts: AlertSettings | None = None
    ) -> None:
        self.db = db
        self.judge = judge
        self.clock = clock
        self.alerts = alerts or AlertSettings()
        """When a queued crisis, threat or loud post alerts (`monitor.alerts.intake`)."""
        self.stopping = threading.Event()
        """Set to end polls after their current page (a clean shutdown)."""

    @classmethod
    def from_settings(
        cls, settings: Settings, db: Database, judge: Judge | None = None
    ) -> Pipeline:
        """`judge`: one the process already has (the runtime's), else one loaded here."""
        if not settings.brands:
            log.warning("no [[brands]] configured: no post will match or be queued")
        return cls(
            db, judge or Judge.from_settings(settings), SlaClock(settings.sla), settings.alerts
        )

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
        """Judge freshly stored posts, store scores and verdicts, queue the flagged ones (a
        crisis, threat or loud post alerts in the same transaction); returns how many were
        queued."""
        if not posts:
            return 0
        subjects = [subject_of(post) for post in posts]
        judgements = self.judge.judge(subjects, stored_history(session, posts))
        flagging = self.judge.flagging
        for post, judged in zip(posts, judgements, strict=True):
            post.matched_brands = judged.match.brands
            post.matched_keywords = judged.match.keywords
            session.add_all(score_rows(post, judged))
            verdict = VerdictRecord(post=post, **trace(judged, flagging))
            session.add(verdict)
            # the author writing again in a closed conversation reopens its item instead of
            # starting a second one
            reopened = reopen_on_new_post(session, post, self.clock)
            if verdict.flagged and reopened is None:
                item = enqueue(session, post, verdict, self.clock)
                alert_on_item(session, item, verdict, self.alerts, datetime.now(UTC))
        return sum(judged.verdict.flagged for judged in judgements)


def subject_of(post: PostRecord) -> Subject:
    signals = author_signals(post.author)
    return Subject(
        post.text or "", post.created_at, signals, post.author_id, engagement(post.metrics)
    )


def stored_history(session: Session, posts: list[PostRecord]) -> AuthorHistory:
    """The stored posts of these posts' authors from the week before the oldest of them."""
    history = AuthorHistory()
    authors = {post.author_id for post in posts if post.author_id is not None}
    if not authors:
        return history
    earlier = session.scalars(
        select(PostRecord)
        .options(selectinload(PostRecord.scores))
        .where(
            PostRecord.author_id.in_(authors),
            PostRecord.id.not_in([post.id for post in posts]),
            PostRecord.created_at >= min(post.created_at for post in posts) - WINDOW,
            PostRecord.text.is_not(None),
        )
        .order_by(PostRecord.created_at)
    )
    for post in earlier:
        history.add(post.author_id, _past(post))
    return history


def _past(post: PostRecord) -> PastPost:
    hostile = is_hostile({score.task: score.label for score in post.scores})
    return PastPost(post.text or "", post.created_at, tuple(post.matched_brands), hostile)


def score_rows(
    post: PostRecord, judged: Judgement, known: Collection[tuple[str, str]] = ()
) -> list[Score]:
    """The judged post's score rows, but for the (task, model_version) pairs in `known`: a
    model version scores a post once (`rufwacht rescore` judges stored posts again)."""
    rows = {
        "sentiment": (
            judged.sentiment.model_version,
            lambda: _score_row(post, "sentiment", judged.sentiment),
        ),
        "offensive": (
            judged.offensive.model_version,
            lambda: _score_row(post, "offensive", judged.offensive),
        ),
        "troll": (judged.troll.model_version, lambda: _troll_row(post, judged.troll)),
    }
    return [row() for task, (version, row) in rows.items() if (task, version) not in known]


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
