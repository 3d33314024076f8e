"""Judging posts: match → score → history → troll → spam → triage → decide, the one path.

The pipeline (before it stores and queues) and `rufwacht classify` (which stores nothing) both
call `Judge.judge`, so what classify prints and what the queue holds cannot disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from classifiers.base import Prediction
from classifiers.spam import SPAM_RULES_VERSION
from classifiers.triage import Triage, TriageModel, TriageSignals, gather_signals
from classifiers.troll import AuthorSignals, TrollResult
from monitor.flagging import DOUBTED, Verdict, decide
from monitor.guidance.playbooks import PLAYBOOKS, Category
from monitor.history import AuthorHistory, PastPost, is_hostile
from monitor.matching import Matcher, MatchResult
from monitor.queue.priority import Reach
from monitor.scoring import Scorer, TextJudgement
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
        """The id of the playbook the team follows: the category's, except that a post queued
        against a praise or irrelevant category (for its negative tone) is handled as a
        complaint; None for unqueued irrelevant posts and spam."""
        label = self.triage.category.label
        if self.verdict.flagged and label in DOUBTED:
            return Category.COMPLAINT.value
        return label if label in PLAYBOOKS else None


class Judge:
    """The matcher, models and thresholds one process judges with."""

    def __init__(
        self, matcher: Matcher, scorer: Scorer, flagging: FlaggingSettings, triage: TriageModel
    ) -> None:
        self.matcher = matcher
        self.scorer = scorer
        self.flagging = flagging
        self.triage = triage

    @classmethod
    def from_settings(cls, settings: Settings) -> Judge:
        """Compile the terms and load the models; raises ValueError or `ModelLoadError`."""
        matcher = Matcher(settings.brands, settings.keywords.negative)
        scorer = Scorer.from_settings(settings)
        return cls(matcher, scorer, settings.flagging, TriageModel.load())

    @property
    def batch_size(self) -> int:
        return self.scorer.batch_size

    def judge(self, subjects: Sequence[Subject], history: AuthorHistory) -> list[Judgement]:
        """Judge posts in arrival order; each joins `history`, so its author's later posts
        (in this batch or a later one) see it."""
        texts = [subject.text for subject in subjects]
        matches = [self.matcher.match(text) for text in texts]
        readings = self.scorer.judge(texts)
        histories = []
        for subject, match, reading in zip(subjects, matches, readings, strict=True):
            key = subject.author_key
            histories.append(history.signals(key, subject.text, subject.created_at, match.brands))
            history.add(key, _past(subject, match, reading))
        authors = [subject.author for subject in subjects]
        trolls = self.scorer.troll(texts, authors, histories, readings)
        signals = gather_signals(
            texts,
            authors,
            histories,
            [reading.sentiment for reading in readings],
            [reading.offensive for reading in readings],
            trolls,
        )
        triages = self.triage.triage(signals)
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
