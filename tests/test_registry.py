"""Model specs as users write them in the config: what loads, and what fails how."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers.base import ModelLoadError
from classifiers.ngram import NgramClassifier
from classifiers.registry import BUNDLED_DIR, list_models, load_classifier


def copy_bundled(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(BUNDLED_DIR / name, target)
    return target


def test_bundled_models_load_once_per_process() -> None:
    first = load_classifier("ngram-sentiment", "sentiment")
    assert isinstance(first, NgramClassifier)
    assert load_classifier("ngram-sentiment", "sentiment") is first


def test_list_models_shows_both_bundled_models_with_their_figures() -> None:
    infos = {info.name: info for info in list_models()}
    assert infos["ngram-sentiment"].task == "sentiment"
    assert infos["ngram-offensive"].task == "offensive"
    assert infos["ngram-sentiment"].model_version.startswith("ngram-sentiment-")
    figures = infos["ngram-sentiment"].eval["germeval2017_test.tsv"]
    assert 0 < figures["macro_f1"] <= figures["micro_f1"] <= 1
    assert set(infos["ngram-offensive"].eval) == {"germeval2018_test.tsv", "germeval2021_test.tsv"}


def test_a_copied_model_directory_loads_and_judges_the_same(tmp_path: Path) -> None:
    directory = copy_bundled("ngram-offensive", tmp_path)
    copied = load_classifier(str(directory), "offensive")
    bundled = load_classifier("ngram-offensive", "offensive")
    texts = ["Du Vollidiot!", "Wann fährt der Bus?"]
    assert np.allclose(copied.predict_proba(texts), bundled.predict_proba(texts))
    assert copied.model_version == bundled.model_version


def test_a_model_of_the_other_task_is_refused() -> None:
    with pytest.raises(
        ModelLoadError, match=r"'ngram-offensive'.*model for offensive, not for sentiment"
    ):
        load_classifier("ngram-offensive", "sentiment")


def test_unknown_task_is_named() -> None:
    with pytest.raises(ModelLoadError, match=r"'ngram-sentiment': unknown task 'troll'"):
        load_classifier("ngram-sentiment", "troll")


@pytest.mark.parametrize("spec", ["", "   "])
def test_an_empty_spec_is_refused(spec: str) -> None:
    with pytest.raises(ModelLoadError, match="spec is empty"):
        load_classifier(spec, "sentiment")


def test_missing_path_and_file_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "mine"
    with pytest.raises(ModelLoadError, match=f"no such model directory {missing}"):
        load_classifier(str(missing), "sentiment")
    a_file = tmp_path / "model.safetensors"
    a_file.write_bytes(b"\0" * 10)
    with pytest.raises(ModelLoadError, match=f"{a_file} is a file"):
        load_classifier(str(a_file), "sentiment")


def test_truncated_weights_are_reported_as_broken(tmp_path: Path) -> None:
    directory = copy_bundled("ngram-sentiment", tmp_path)
    weights = directory / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelLoadError, match=f"{directory}.*broken model files"):
        load_classifier(str(directory), "sentiment")


def test_a_broken_config_is_reported(tmp_path: Path) -> None:
    directory = copy_bundled("ngram-sentiment", tmp_path)
    (directory / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match=f"{directory}.*cannot read config.json"):
        load_classifier(str(directory), "sentiment")


def test_weights_that_do_not_fit_the_featuriser_are_refused(tmp_path: Path) -> None:
    directory = copy_bundled("ngram-sentiment", tmp_path)
    config = json.loads((directory / "config.json").read_text())
    config["featuriser"]["char_bits"] -= 1
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="buckets"):
        load_classifier(str(directory), "sentiment")


def test_an_unknown_name_says_where_it_was_looked_for() -> None:
    with pytest.raises(ModelLoadError) as error:
        load_classifier("ngram-sentimnet", "sentiment")
    message = str(error.value)
    assert "'ngram-sentimnet'" in message
    assert "not a bundled model, a local model directory" in message or "Hugging Face" in message


def test_spelled_out_formats_match_the_model_modules() -> None:
    """The registry names formats without importing the model modules; they must not drift."""
    from classifiers import ensemble, ngram, registry
    from classifiers.e5 import classifier as e5

    assert registry.NGRAM_FORMAT == ngram.FORMAT
    assert registry.ENSEMBLE_FORMAT == ensemble.FORMAT
    assert registry.E5_FORMAT == e5.FORMAT
