"""Model specs → loaded classifiers: bundled names, local directories, Hugging Face hub ids.

The config names models by spec (`ensemble-sentiment`, `e5-offensive`, `/models/my-bert`,
`oliverguhr/german-sentiment-bert`); this is the one place that decides what a spec means.
A bundled directory's config.json names its format. An n-gram or ensemble directory is one
model named after the directory; one `rufwacht-e5` directory serves several bundled names,
one per task (its config's `models`), all sharing one loaded encoder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.base import CONFIG_FILE, TASK_LABELS, ModelLoadError, TextClassifier, read_config

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
# Each model module's FORMAT, spelled out: importing those modules loads torch, scipy, sklearn
# or transformers (seconds), which listing models or loading another format does not need.
NGRAM_FORMAT = "rufwacht-ngram"
ENSEMBLE_FORMAT = "rufwacht-ensemble"
E5_FORMAT = "rufwacht-e5"

_cache: dict[tuple[str, str], TextClassifier] = {}
# Re-entrant: an ensemble loads its members through `load_classifier` while loading.
_lock = threading.RLock()


@dataclass(frozen=True)
class ModelInfo:
    """A bundled model as `rufwacht models list` shows it, figures from its config.json."""

    name: str
    task: str
    model_version: str
    path: Path
    eval: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_classifier(spec: str, task: str) -> TextClassifier:
    """The classifier a spec names, loaded once per (spec, task) in this process.

    Raises `ModelLoadError` naming the spec and the problem (unknown spec, wrong task,
    broken files, unmappable labels, a hub model that is neither cached nor downloadable).
    """
    if task not in TASK_LABELS:
        raise ModelLoadError(
            f"cannot load model {spec!r}: unknown task {task!r} (known: {', '.join(TASK_LABELS)})"
        )
    with _lock:
        if (spec, task) not in _cache:
            try:
                _cache[(spec, task)] = _load(spec, task)
            except ModelLoadError as exc:
                raise ModelLoadError(f"cannot load {task} model {spec!r}: {exc}") from exc
        return _cache[(spec, task)]


def list_models() -> list[ModelInfo]:
    """The bundled models, by name."""
    infos = []
    for name, (directory, task) in _bundled().items():
        config = read_config(directory)
        figures = config["tasks"][task] if config["format"] == E5_FORMAT else config
        infos.append(
            ModelInfo(
                name=name,
                task=task,
                model_version=str(config["model_version"]),
                path=directory,
                eval=dict(figures.get("eval", {})),
            )
        )
    return sorted([*infos, _triage_info()], key=lambda info: info.name)


def _triage_info() -> ModelInfo:
    """The triage bundle: not a text classifier, but a model the pipeline runs all the same."""
    from classifiers.triage import BUNDLED_DIR as TRIAGE_DIR

    config = read_config(TRIAGE_DIR)
    return ModelInfo(
        name="triage",
        task="triage",
        model_version=str(config["model_version"]),
        path=TRIAGE_DIR,
        eval=dict(config.get("eval", {})),
    )


def _load(spec: str, task: str) -> TextClassifier:
    if not spec.strip():
        raise ModelLoadError("the model spec is empty")
    if "/" not in spec and spec in (bundled := _bundled()):
        directory, model_task = bundled[spec]
        if model_task != task:
            raise ModelLoadError(f"this is a model for {model_task}, not for {task}")
        return _load_directory(directory, task)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise ModelLoadError(
                f"{spec} has no {CONFIG_FILE}: neither a bundled-format nor a Hugging Face model"
            )
        return _load_directory(path, task)
    if path.exists():
        raise ModelLoadError(f"{spec} is a file; a model spec is a directory, not a file")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelLoadError(f"no such model directory {spec}")
    return _load_hf(spec, task)


def _load_directory(directory: Path, task: str) -> TextClassifier:
    """A model directory by the format its config.json names (none: Hugging Face)."""
    config = read_config(directory)
    fmt = config.get("format")
    if fmt == NGRAM_FORMAT:
        from classifiers.ngram import NgramClassifier

        return NgramClassifier.load(directory, task)
    if fmt == ENSEMBLE_FORMAT:
        from classifiers.ensemble import load_ensemble

        return load_ensemble(directory, config, task, load_classifier)
    if fmt == E5_FORMAT:
        return _load_e5(directory, task)
    return _load_hf(str(directory), task)


def _load_hf(spec: str, task: str) -> TextClassifier:
    """Hugging Face models import transformers, which takes seconds: only when asked for."""
    from classifiers.hf import HFClassifier

    return HFClassifier(spec, task)


def _load_e5(directory: Path, task: str) -> TextClassifier:
    """Like `_load_hf`: torch, peft and transformers are imported only when asked for."""
    from classifiers.e5.classifier import load_e5

    return load_e5(directory, task)


def bundled_models() -> dict[str, tuple[Path, str]]:
    """Bundled name → (its directory, its task): the names a config may use."""
    return _bundled()


def _bundled() -> dict[str, tuple[Path, str]]:
    """Bundled name → (its directory, its task)."""
    names: dict[str, tuple[Path, str]] = {}
    for directory in sorted(BUNDLED_DIR.iterdir()):
        if not (directory / CONFIG_FILE).is_file():
            continue
        config = read_config(directory)
        if config.get("format") == E5_FORMAT:
            names.update({n: (directory, t) for n, t in config.get("models", {}).items()})
        elif config.get("format") in (NGRAM_FORMAT, ENSEMBLE_FORMAT):
            names[directory.name] = (directory, str(config["task"]))
    return names
