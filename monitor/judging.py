"""Judging posts: match → score → history → troll → spam → triage → decide, the one path.

The pipeline (before it stores and queues) and `rufwacht classify` (which stores nothing) both
call `Judge.judge`, so what classify prints and what the queue holds cannot disagree.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from classifiers.base import ModelLoadError, Prediction
from classifiers.model_registry import RegistryError
from classifiers.spam import SPAM_RULES_VERSION
from classifiers.triage import Triage, TriageModel, TriageSignals, gather_signals
from classifiers.troll import AuthorSignals, TrollResult
from monitor.champions import ServingModels
from monitor.flagging import Verdict, decide
from monitor.guidance.playbooks import PLAYBOOKS
from monitor.history import AuthorHistory, PastPost, is_hostile
from monitor.matching import Matcher, MatchResult
from monitor.queue.priority import Reach
from monitor.scoring import Scorer, TextJudgement, load_triage
from monitor.settings import FlaggingSettings, Settings


@dataclass(frozen=True)
class Subject:
    """What judging needs of a post, whether just fetched or already stored."""

    text: str
    created_at: datetime
    author: AuthorSignals
    author_key: Hashable | None
    """The author's identity for their history; None when the post has no known author."""
    engagement: int = 0
    """Likes, shares and replies so far (`monitor.queue.priority.engagement`): part of reach."""


@dataclass(frozen=True)
class Judgement:
    match: MatchResult
    sentiment: Prediction
    offensive: Prediction
    troll: TrollResult
    spam: list[str]
    """`classifiers.spam.spam_reasons`; empty when the post is no spam."""
    triage: Triage
    verdict: Verdict

    @property
    def guideline(self) -> str | None:
        """The id of the category's playbook; None for irrelevant posts and spam."""
        label = self.triage.category.label
        return label if label in PLAYBOOKS else None


log = logging.getLogger(__name__)


class Judge:
    """The matcher, models and thresholds one process judges with.

    With `serving`, each call first asks whether the registry's champions changed and, if
    so, switches to them (a running service picks up a promotion without a restart)."""

    def __init__(
        self,
        matcher: Matcher,
        scorer: Scorer,
        flagging: FlaggingSettings,
        triage: TriageModel,
        serving: ServingModels | None = None,
    ) -> None:
        self.matcher = matcher
        self.scorer = scorer
        self.flagging = flagging
        self.triage = triage
        self.serving = serving
        self._specs = serving.specs() if serving else {}
        self._failed: dict[str, str] = {}
        """Specs that did not load: not tried again before the aliases change once more."""
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, serving: ServingModels | None = None) -> Judge:
        """Compile the terms and load the models; raises ValueError, `ModelLoadError` or
        `RegistryError`."""
        matcher = Matcher(settings.brands, settings.keywords.negative)
        serving = serving or ServingModels.from_settings(settings)
        scorer = Scorer.from_settings(settings, serving)
        return cls(matcher, scorer, settings.flagging, load_triage(serving.spec("triage")), serving)

    def refresh_models(self) -> bool:
        """Switch to the champions if an alias changed since the models were loaded; True
        when it did. A champion that does not load is logged, and the old models judge on."""
        if self.serving is None:
            return False
        try:
            specs = self.serving.specs()
        except RegistryError as exc:
            log.error("model registry unreadable, judging on with the loaded models: %s", exc)
            return False
        if specs in (self._specs, self._failed):
            return False
        with self._lock:
            if specs == self._specs:
                return False
            try:
                scorer = Scorer.load(
                    specs["sentiment"],
                    specs["offensive"],
                    self.flagging.troll_threshold,
                    self.scorer.batch_size,
                )
                same_triage = specs["triage"] == self._specs.get("triage")
                triage = self.triage if same_triage else load_triage(specs["triage"])
            except (ModelLoadError, RegistryError, OSError) as exc:
                log.error("new champion does not load, judging on with the old one: %s", exc)
                self._failed = specs
                return False
            self.scorer, self.triage, self._specs = scorer, triage, specs
        versions = (scorer.sentiment, scorer.offensive, triage)
        log.info("now judging with %s", ", ".join(model.model_version for model in versions))
        return True

    @property
    def batch_size(self) -> int:
        return self.scorer.batch_size

    def judge(self, subjects: Sequence[Subject], history: AuthorHistory) -> list[Judgement]:
        """Judge posts in arrival order; each joins `history`, so its author's later posts
        (in this batch or a later one) see it."""
        self.refresh_models()
        scorer, triage = self.scorer, self.triage  # one set of models for the whole batch
        texts = [subject.text for subject in subjects]
        matches = [self.matcher.match(text) for text in texts]
        readings = scorer.judge(texts)
        histories = []
        for subject, match, reading in zip(subjects, matches, readings, strict=True):
            key = subject.author_key
            histories.append(history.signals(key, subject.text, subject.created_at, match.brands))
            history.add(key, _past(subject, match, reading))
        authors = [subject.author for subject in subjects]
        trolls = scorer.troll(texts, authors, histories, readings)
        signals = gather_signals(
            texts,
            authors,
            histories,
            [reading.sentiment for reading in readings],
            [reading.offensive for reading in readings],
            trolls,
        )
        triages = triage.triage(signals)
        return [
            self._conclude(subject, match, reading, signal, triage)
            for subject, match, reading, signal, triage in zip(
                subjects, matches, readings, signals, triages, strict=True
            )
        ]

    def _conclude(
        self,
        subject: Subject,
        match: MatchResult,
        reading: TextJudgement,
        signals: TriageSignals,
        triage: Triage,
    ) -> Judgement:
        spam, troll = list(signals.spam), signals.troll
        verdict = decide(
            match,
            reading.sentiment,
            troll,
            spam,
            Reach(signals.author.followers, subject.engagement),
            self.flagging,
            triage.category.label,
        )
        return Judgement(match, reading.sentiment, reading.offensive, troll, spam, triage, verdict)


def _past(subject: Subject, match: MatchResult, reading: TextJudgement) -> PastPost:
    hostile = is_hostile(
        {"sentiment": reading.sentiment.label, "offensive": reading.offensive.label}
    )
    return PastPost(subject.text, subject.created_at, tuple(match.brands), hostile)


def trace(judgement: Judgement, flagging: FlaggingSettings) -> dict[str, Any]:
    """Everything that decided the verdict, as JSON-ready data: stored with every judged post
    so that `rufwacht explain` can answer from the database alone, whatever changed since."""
    match, verdict, troll = judgement.match, judgement.verdict, judgement.troll
    return {
        "flagged": verdict.flagged,
        "priority": verdict.priority,
        "brand": verdict.brand,
        "reasons": verdict.reasons,
        "matches": dataclasses.asdict(match),  # brands, keywords, spans
        "thresholds": {
            "negative": flagging.negative_threshold,
            "troll": flagging.troll_threshold,
        },
        "scores": {
            "sentiment": judgement.sentiment.label,
            "negative": judgement.sentiment.scores.get("negative", 0.0),
            "offensive": judgement.offensive.scores.get("offensive", 0.0),
            "troll": troll.score,
            "threat": troll.threat,
            "troll_reasons": troll.reasons,
        },
        "spam": {
            "is_spam": bool(judgement.spam),
            "reasons": judgement.spam,
            "rule_version": SPAM_RULES_VERSION,
        },
        "models": {
            "sentiment": judgement.sentiment.model_version,
            "offensive": judgement.offensive.model_version,
            "troll": troll.model_version,
            "triage": judgement.triage.model_version,
        },
        **triage_data(judgement),
    }


def triage_data(judgement: Judgement) -> dict[str, Any]:
    """Category, action and playbook id as classify prints them and the verdict stores them."""
    category, action = judgement.triage.category, judgement.triage.action
    return {
        "category": {
            "label": category.label,
            "confidence": category.confidence,
            "reasons": category.reasons,
        },
        "action": {
            "label": action.label,
            "escalate_to": action.escalate_to,
            "reasons": action.reasons,
        },
        "guideline": judgement.guideline,
    }
