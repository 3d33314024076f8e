"""The bundled ensembles as the monitor loads them: the fast member settles the posts it is
sure of, the strong member is asked about the rest, and stale or broken bundles are named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers.base import ModelLoadError
from classifiers.ensemble import EnsembleClassifier
from classifiers.registry import BUNDLED_DIR, list_models, load_classifier

BUNDLE = BUNDLED_DIR / "ensemble-sentiment"
POSTS = [
    "Danke, super Service, alles bestens!",
    "Zug fällt aus, keine Info, ich komme zu spät. Unzumutbar!",
    "Hm, mal sehen, ob das morgen klappt mit der Lieferung.",
    "Großartig, wieder mal kein Anschluss erreicht 🙃",
]


@pytest.fixture(scope="module")
def ensemble() -> EnsembleClassifier:
    classifier = load_classifier("ensemble-sentiment", "sentiment")
    assert isinstance(classifier, EnsembleClassifier)
    return classifier


def test_sure_posts_keep_the_fast_verdict_and_the_rest_ask_the_strong_model(
    ensemble: EnsembleClassifier,
) -> None:
    fast = ensemble.fast.predict_proba(POSTS)
    probs = ensemble.predict_proba(POSTS)
    sure = fast.max(axis=1) >= ensemble.rule.confident
    assert sure.any() and not sure.all(), "the sample should hold easy and hard posts"
    assert np.allclose(probs[sure], fast[sure])
    assert not np.allclose(probs[~sure], fast[~sure])
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_predictions_name_the_ensemble_version(ensemble: EnsembleClassifier) -> None:
    assert {p.model_version for p in ensemble.predict(POSTS)} == {"ensemble-sentiment-1.1"}


def test_a_member_of_another_version_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "stale"
    shutil.copytree(BUNDLE, directory)
    config = json.loads((directory / "config.json").read_text())
    config["members"]["strong"]["model_version"] = "e5-multitask-0.1"
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"tuned for strong member .* re-run"):
        load_classifier(str(directory), "sentiment")


def test_an_incomplete_config_is_named(tmp_path: Path) -> None:
    directory = tmp_path / "broken"
    shutil.copytree(BUNDLE, directory)
    config = json.loads((directory / "config.json").read_text())
    del config["fast_weight"]
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"broken.*incomplete ensemble config.*fast_weight"):
        load_classifier(str(directory), "sentiment")


def test_models_list_shows_the_ensembles_with_eval_figures() -> None:
    infos = {info.name: info for info in list_models()}
    assert infos["ensemble-offensive"].task == "offensive"
    assert set(infos["ensemble-sentiment"].eval) == {
        "germeval2017_test.tsv",
        "germeval2017_test_dia.tsv",
        "sentiment_contrast_check.tsv",
    }
