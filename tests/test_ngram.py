"""The bundled n-gram models as the product uses them, and the text normaliser before them."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.base import OFFENSIVE_LABELS, SENTIMENT_LABELS
from classifiers.registry import load_classifier
from classifiers.textnorm import normalise

COMPLAINTS = [
    "Schon wieder 40 Minuten Verspätung und kein Wort vom Personal. Ich bin so sauer!",
    "Mein Paket ist seit zwei Wochen verschwunden und der Kundenservice ignoriert mich. Frechheit!",
]
# Plainly a complaint, yet the model's P(negative) stays near 0.45 (it misses about half of
# GermEval's negative posts): it must still rank above every non-complaint.
SUBTLE_COMPLAINT = "Internet seit drei Tagen tot, die Hotline legt einfach auf. Absolut unzumutbar."
PRAISE = [
    "Vielen Dank für die schnelle Hilfe, ihr seid super! 😊",
    "Toller Service heute, der Zugbegleiter war richtig freundlich. Danke!",
    "Ich liebe die neue App, endlich funktioniert alles perfekt ❤️",
]
INSULTS = [
    "Du bist so ein dummer Idiot, halt einfach die Fresse!",
    "Was für ein erbärmlicher Vollidiot, verpiss dich!",
    "Ihr seid alle hirnlose Schweine und Versager.",
]
FRIENDLY = [
    "Weiß jemand, wann der nächste Zug nach Köln fährt?",
    "Danke für die Info, dann warte ich bis morgen.",
]


@pytest.fixture(scope="module")
def sentiment():
    return load_classifier("ngram-sentiment", "sentiment")


@pytest.fixture(scope="module")
def offensive():
    return load_classifier("ngram-offensive", "offensive")


def test_complaints_are_negative_and_praise_is_positive(sentiment) -> None:
    assert [p.label for p in sentiment.predict(COMPLAINTS)] == ["negative"] * len(COMPLAINTS)
    assert [p.label for p in sentiment.predict(PRAISE)] == ["positive"] * len(PRAISE)


def test_complaints_get_a_higher_negative_probability_than_anything_else(sentiment) -> None:
    negative = sentiment.labels.index("negative")
    complaints = sentiment.predict_proba([*COMPLAINTS, SUBTLE_COMPLAINT])[:, negative]
    others = sentiment.predict_proba([*PRAISE, *FRIENDLY])[:, negative]
    assert complaints.min() > others.max()


def test_insults_are_offensive_and_questions_are_not(offensive) -> None:
    assert [p.label for p in offensive.predict(INSULTS)] == ["offensive"] * len(INSULTS)
    assert [p.label for p in offensive.predict(FRIENDLY)] == ["other"] * len(FRIENDLY)


def test_predictions_carry_version_and_canonical_labels(sentiment, offensive) -> None:
    for model, labels in ((sentiment, SENTIMENT_LABELS), (offensive, OFFENSIVE_LABELS)):
        prediction = model.predict(["Die Bahn kommt."])[0]
        assert model.labels == labels
        assert prediction.model_version == model.model_version
        assert prediction.model_version.startswith("ngram-")
        assert tuple(prediction.scores) == labels


def test_probabilities_sum_to_one_for_empty_huge_and_odd_texts(sentiment, offensive) -> None:
    texts = ["", "   ", "x" * 20_000, "Stau " * 4_000, "😡😡😡", "&amp; http://t.co/x @someone"]
    for model in (sentiment, offensive):
        probs = model.predict_proba(texts)
        assert probs.shape == (len(texts), len(model.labels))
        assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
        assert (probs >= 0).all()
        assert model.predict_proba([]).shape == (0, len(model.labels))


def test_a_text_is_judged_the_same_alone_and_in_a_batch(sentiment) -> None:
    batch = sentiment.predict_proba([*COMPLAINTS, *PRAISE])
    alone = sentiment.predict_proba([PRAISE[1]])
    assert np.allclose(batch[len(COMPLAINTS) + 1], alone[0], atol=1e-6)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bahn &amp; Bus  &lt;3", "Bahn & Bus <3"),
        ("@DB_Bahn wo bleibt der Zug?", "@user wo bleibt der Zug?"),
        ("mail@example.com bleibt", "mail@example.com bleibt"),
        ("siehe https://t.co/abc123?x=1 und www.bahn.de.", "siehe URL und URL"),
        ("New Post: Samsung ~http", "New Post: Samsung ~URL"),
        ("soooooo gut!!!!!!! 😡😡😡😡", "sooo gut!!! 😡😡😡"),
        ("Zeile\n\n eins\t zwei ", "Zeile eins zwei"),
        ("KEIN Netz", "KEIN Netz"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected
