"""The bundled e5 models as the monitor loads them: judgements a social media team would
notice, one shared encoder pass for both tasks, and clear errors for broken bundles."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from classifiers.base import ModelLoadError
from classifiers.e5 import classifier as e5
from classifiers.e5.classifier import E5Classifier, MultiTaskModel, load_e5
from classifiers.evaluation import read_labelled_tsv
from classifiers.registry import BUNDLED_DIR, list_models, load_classifier

BUNDLE = BUNDLED_DIR / "e5-multitask"

SENTIMENT = {
    "Seit drei Wochen warte ich auf meine Erstattung, niemand antwortet. Unverschämt!": (
        "negative"
    ),
    "Zug fällt schon wieder aus, und keiner sagt Bescheid. Ich bin so genervt.": "negative",
    "Vielen Dank für die schnelle Hilfe, ihr seid super! 😍": "positive",
    "Toller Service, freundliches Personal, gerne wieder!": "positive",
}
OFFENSIVE = {
    "Halt die Fresse, du dummes Arschloch.": "offensive",
    "Sehr geehrte Damen und Herren, leider ist meine Lieferung beschädigt angekommen. "
    "Könnten Sie mir bitte weiterhelfen?": "other",
}


@pytest.fixture(scope="module")
def sentiment() -> E5Classifier:
    classifier = load_classifier("e5-sentiment", "sentiment")
    assert isinstance(classifier, E5Classifier)
    return classifier


@pytest.fixture(scope="module")
def offensive() -> E5Classifier:
    classifier = load_classifier("e5-offensive", "offensive")
    assert isinstance(classifier, E5Classifier)
    return classifier


def test_clear_complaints_and_praise_are_judged_as_a_reader_would(
    sentiment: E5Classifier,
) -> None:
    predictions = sentiment.predict(list(SENTIMENT))
    assert {text: p.label for text, p in zip(SENTIMENT, predictions, strict=True)} == SENTIMENT


def test_an_insult_is_offensive_and_a_polite_complaint_is_not(offensive: E5Classifier) -> None:
    predictions = offensive.predict(list(OFFENSIVE))
    assert {text: p.label for text, p in zip(OFFENSIVE, predictions, strict=True)} == OFFENSIVE


def test_both_tasks_share_one_encoder_pass_per_batch(
    sentiment: E5Classifier, offensive: E5Classifier
) -> None:
    assert sentiment.model is offensive.model
    batch = ["Wann öffnet die Filiale?", "Nie wieder, ihr Betrüger!"]
    model = sentiment.model
    before = model.encoder_passes
    sentiment.predict(batch)
    after_first = model.encoder_passes
    offensive.predict(list(batch))
    assert after_first > before
    assert model.encoder_passes == after_first
    offensive.predict(["Ein anderer Post"])
    assert model.encoder_passes > after_first


def test_probabilities_sum_to_one_and_name_the_model(
    sentiment: E5Classifier, offensive: E5Classifier
) -> None:
    texts = ["Kurz", "Ein etwas längerer Text über eine verspätete Lieferung. " * 20, "🙄"]
    for classifier in (sentiment, offensive):
        probs = classifier.predict_proba(texts)
        assert probs.shape == (3, len(classifier.labels))
        assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
        assert {p.model_version for p in classifier.predict(texts)} == {"e5-multitask-1.1"}
    assert sentiment.predict_proba([]).shape == (0, 3)


def test_list_models_shows_both_heads_with_their_eval_figures() -> None:
    infos = {info.name: info for info in list_models()}
    assert infos["e5-sentiment"].task == "sentiment"
    assert infos["e5-offensive"].task == "offensive"
    assert set(infos["e5-sentiment"].eval) == {
        "germeval2017_test.tsv",
        "germeval2017_test_dia.tsv",
        "sentiment_contrast_check.tsv",
    }
    assert set(infos["e5-offensive"].eval) == {"germeval2018_test.tsv", "germeval2021_test.tsv"}
    assert infos["e5-offensive"].model_version == "e5-multitask-1.1"


def test_a_head_of_the_other_task_is_refused() -> None:
    with pytest.raises(ModelLoadError, match=r"'e5-offensive'.*for offensive, not for sentiment"):
        load_classifier("e5-offensive", "sentiment")


def test_a_broken_heads_file_is_named(tmp_path: Path) -> None:
    directory = tmp_path / "e5-copy"
    shutil.copytree(BUNDLE, directory)
    heads = directory / "heads.safetensors"
    heads.write_bytes(heads.read_bytes()[:100])
    with pytest.raises(ModelLoadError, match="broken adapter or heads"):
        load_e5(directory, "sentiment")


def test_bf16_judges_the_team_check_set_as_fp32_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 is a speed choice only: a team must not see different labels because of it.

    Forced on, so that the numbers are checked on every machine, also where bf16 is slower.
    """
    check_set = Path(__file__).parent / "data" / "sentiment_contrast_check.tsv"
    texts = [*read_labelled_tsv(check_set, "sentiment")[0], *SENTIMENT, *OFFENSIVE]
    monkeypatch.setattr(e5, "bf16_is_fast", lambda: True)
    fp32 = MultiTaskModel.load(BUNDLE, quantisation="fp32")
    bf16 = MultiTaskModel.load(BUNDLE, quantisation="bf16")
    assert isinstance(bf16.encoder, e5.Bf16Autocast)
    for task in ("sentiment", "offensive"):
        full = fp32.probabilities(texts, task)
        half = bf16.probabilities(texts, task)
        assert (full.argmax(axis=1) == half.argmax(axis=1)).mean() >= 0.97
        assert np.abs(full - half).max() < 0.1


def test_a_machine_where_bf16_is_slow_runs_a_bf16_bundle_in_fp32(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """bf16 is only there for speed, so where it measures slower than fp32 it is not used."""
    monkeypatch.setattr(e5, "bf16_is_fast", lambda: False)
    encoder = torch.nn.Sequential(torch.nn.Linear(4, 4))
    assert e5.quantise(encoder, "bf16") is encoder


def test_an_unknown_precision_is_named() -> None:
    with pytest.raises(ModelLoadError, match="unknown quantisation 'fp8'"):
        e5.quantise(torch.nn.Sequential(torch.nn.Linear(4, 4)), "fp8")
