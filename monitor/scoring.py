"""Running the configured classifiers over posts: sentiment, offensive language, troll, and
the signals triage reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from classifiers.base import Prediction, TextClassifier
from classifiers.registry import load_classifier
from classifiers.triage import BUNDLED_DIR, TriageModel, TriageSignals, gather_signals
from classifiers.troll import AuthorSignals, HistorySignals, TrollResult, TrollScorer
from monitor.champions import ServingModels
from monitor.settings import Settings

BUNDLED_TRIAGE = "triage"
"""The triage spec naming the bundled model (`[classifiers] triage`)."""


@dataclass(frozen=True)
class TextJudgement:
    """What the text models say about one text."""

    sentiment: Prediction
    offensive: Prediction


class AuthorLike(Protocol):
    """A fetched `connectors.base.Author` or a stored `AuthorRecord`."""

    account_age_days: int | None
    followers: int | None
    posts_last_24h: int | None


def author_signals(author: AuthorLike | None) -> AuthorSignals:
    if author is None:
        return AuthorSignals(account_age_days=None, followers=None, posts_last_24h=None)
    return AuthorSignals(
        account_age_days=author.account_age_days,
        followers=author.followers,
        posts_last_24h=author.posts_last_24h,
    )


def load_triage(spec: str) -> TriageModel:
    """The triage model a spec names: the bundled one, or a triage model directory."""
    return TriageModel.load(BUNDLED_DIR if spec == BUNDLED_TRIAGE else Path(spec))


class Scorer:
    """The models one process uses, loaded once."""

    def __init__(
        self,
        sentiment: TextClassifier,
        offensive: TextClassifier,
        troll: TrollScorer,
        batch_size: int = 64,
    ) -> None:
        self.sentiment = sentiment
        self.offensive = offensive
        self.troll_scorer = troll
        self.batch_size = batch_size

    @classmethod
    def from_settings(cls, settings: Settings, serving: ServingModels | None = None) -> Scorer:
        """Load the configured models (a `champion` through the registry); raises
        `ModelLoadError` naming a bad spec, `RegistryError` for a broken registry."""
        serving = serving or ServingModels.from_settings(settings)
        return cls.load(
            serving.spec("sentiment"),
            serving.spec("offensive"),
            settings.flagging.troll_threshold,
            settings.classifiers.batch_size,
        )

    @classmethod
    def load(
        cls, sentiment: str, offensive: str, troll_threshold: float, batch_size: int
    ) -> Scorer:
        """The models these specs name (each loaded once per process)."""
        offensive_model = load_classifier(offensive, "offensive")
        troll = TrollScorer(offensive_model, threshold=troll_threshold)
        return cls(load_classifier(sentiment, "sentiment"), offensive_model, troll, batch_size)

    def judge(self, texts: Sequence[str]) -> list[TextJudgement]:
        judgements: list[TextJudgement] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            judgements += [
                TextJudgement(s, o)
                for s, o in zip(
                    self.sentiment.predict(batch), self.offensive.predict(batch), strict=True
                )
            ]
        return judgements

    def troll(
        self,
        texts: Sequence[str],
        authors: Sequence[AuthorSignals],
        histories: Sequence[HistorySignals],
        judgements: Sequence[TextJudgement],
    ) -> list[TrollResult]:
        offensive = [j.offensive.scores["offensive"] for j in judgements]
        return self.troll_scorer.score(texts, authors, histories, offensive_probs=offensive)

    def triage_signals(
        self,
        texts: Sequence[str],
        authors: Sequence[AuthorSignals],
        histories: Sequence[HistorySignals],
    ) -> list[TriageSignals]:
        """What `TriageModel.triage` reads about posts: the configured models' judgements, the
        troll score and the spam rule (the same inputs for `rufwacht eval` and the pipeline)."""
        judgements = self.judge(texts)
        trolls = self.troll(texts, authors, histories, judgements)
        return gather_signals(
            texts,
            authors,
            histories,
            [j.sentiment for j in judgements],
            [j.offensive for j in judgements],
            trolls,
        )

    def evaluate_triage(self, data: Path, model: str | None) -> tuple[dict[str, Any], str]:
        """Triage figures on a labelled file (with `model`, a triage bundle directory), the
        signals computed as the pipeline computes them; returns figures and model_version."""
        from classifiers.evaluation import evaluate_triage, read_triage_cases  # sklearn: eval only

        cases = read_triage_cases(data)
        triage = TriageModel.load(Path(model) if model else BUNDLED_DIR)
        signals = self.triage_signals(
            [c.text for c in cases], [c.author for c in cases], [c.history for c in cases]
        )
        return evaluate_triage(cases, triage.triage(signals)), triage.model_version
