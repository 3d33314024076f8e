"""The composition root: settings, database, judge, pipeline and sources built from one config.

The CLI, the web app and workers all start here, so each is assembled one way. Parts are built
on first use and their modules imported then, so that a command that needs no models or
platform clients (`--help`, `queue list`) never waits for torch, tweepy or praw.
"""

from __future__ import annotations

import logging
import os
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from monitor.logs import protect_settings
from monitor.settings import Settings, load_settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from connectors.capabilities import PostsReplies
    from monitor.alerts.outbox import Outbox
    from monitor.champions import ServingModels
    from monitor.judging import Judge
    from monitor.pipeline import Pipeline
    from monitor.queue.drafts import DraftChecker
    from monitor.sources import SourcePlan
    from monitor.storage.database import Database


class Runtime:
    """What one process runs on; `close()` (or `with`) releases the database connections."""

    def __init__(self, settings: Settings, database: Database | None = None) -> None:
        """`database`: one opened elsewhere (a test's), instead of the configured one."""
        self.settings = settings
        self._checker: tuple[str, DraftChecker] | None = None
        if database is not None:
            self.__dict__["database"] = database

    @classmethod
    def open(cls, config: Path | None) -> Runtime:
        """Load and validate the config (raises `ConfigError`); its credentials are
        registered for redaction before anything can log them."""
        settings = load_settings(config)
        protect_settings(settings, os.environ)
        return cls(settings)

    @cached_property
    def database(self) -> Database:
        """The configured database, migrated to the newest schema."""
        from monitor.storage.database import Database

        db = Database(self.settings.storage.url)
        db.migrate()
        return db

    @cached_property
    def serving(self) -> ServingModels:
        """Which model serves each task, following the model registry's champions."""
        from monitor.champions import ServingModels

        return ServingModels.from_settings(self.settings)

    @cached_property
    def judge(self) -> Judge:
        """The matcher, models and thresholds (loads the models; switches to a newly
        promoted champion at its next call)."""
        from monitor.judging import Judge

        return Judge.from_settings(self.settings, self.serving)

    @cached_property
    def pipeline(self) -> Pipeline:
        from monitor.pipeline import Pipeline

        return Pipeline.from_settings(self.settings, self.database, self.judge)

    @property
    def draft_checker(self) -> DraftChecker:
        """The draft checker workflow operations run on every saved reply (loads the
        offensive-language model; a newly promoted champion from the next reply on)."""
        from classifiers.model_registry import RegistryError
        from classifiers.registry import load_classifier
        from monitor.queue.drafts import DraftChecker

        try:
            spec = self.serving.spec("offensive")
        except RegistryError:
            if self._checker is None:
                raise
            log.exception("model registry unreadable, checking drafts with the loaded model")
            return self._checker[1]
        if self._checker is None or self._checker[0] != spec:
            checker = DraftChecker(self.settings.brands, load_classifier(spec, "offensive"))
            self._checker = (spec, checker)
        return self._checker[1]

    def source_plan(self) -> SourcePlan:
        """The enabled sources that can run, with their schedule, and those that cannot."""
        from monitor.sources import plan_sources

        return plan_sources(self.settings, os.environ)

    def reply_publisher(self, source: str) -> PostsReplies | None:
        """The connector that posts approved replies for `source`, or None where it is off."""
        from monitor.sources import reply_publisher

        return reply_publisher(self.settings, source, os.environ)

    def alert_outbox(self) -> Outbox:
        """Delivers the alerts' mails (through the digest's SMTP settings) and chat messages."""
        from monitor.alerts.outbox import Outbox
        from monitor.digest.sender import SmtpSender

        mail = self.settings.digest
        return Outbox(self.database, self.settings, SmtpSender(mail), mail.sender)

    def close(self) -> None:
        if "database" in self.__dict__:
            self.database.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
