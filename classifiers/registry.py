"""Model specs → loaded classifiers: bundled names, local directories, Hugging Face hub ids.

The config names models by spec (`ngram-sentiment`, `e5-offensive`, `/models/my-bert`,
`oliverguhr/german-sentiment-bert`); this is the one place that decides what a spec means.
One `rufwacht-e5` directory serves several bundled names, one per task (its config's
`models`), all sharing one loaded encoder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.base import TASK_LABELS, ModelLoadError, TextClassifier
from classifiers.ngram import CONFIG_FILE, FORMAT, NgramClassifier, read_config

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
# classifiers.e5.classifier.FORMAT, spelled out: importing that module loads transformers.
E5_FORMAT = "rufwacht-e5"

_cache: dict[tuple[str, str], TextClassifier] = {}
_lock = threading.Lock()


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
    for directory in sorted(BUNDLED_DIR.iterdir()):
        if _is_ngram_dir(directory):
            config = read_config(directory)
            infos.append(
                ModelInfo(
                    name=directory.name,
                    task=str(config["task"]),
                    model_version=str(config["model_version"]),
                    path=directory,
                    eval=dict(config.get("eval", {})),
                )
            )
    for name, (directory, task) in _bundled_e5().items():
        config = read_config(directory)
        infos.append(
            ModelInfo(
                name=name,
                task=task,
                model_version=str(config["model_version"]),
                path=directory,
                eval=dict(config["tasks"][task].get("eval", {})),
            )
        )
    return sorted(infos, key=lambda info: info.name)


def _load(spec: str, task: str) -> TextClassifier:
    if not spec.strip():
        raise ModelLoadError("the model spec is empty")
    bundled = BUNDLED_DIR / spec
    if "/" not in spec and _is_ngram_dir(bundled):
        return NgramClassifier.load(bundled, task)
    if "/" not in spec and spec in (e5 := _bundled_e5()):
        directory, model_task = e5[spec]
        if model_task != task:
            raise ModelLoadError(f"this is a model for {model_task}, not for {task}")
        return _load_e5(directory, task)
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise ModelLoadError(
                f"{spec} has no {CONFIG_FILE}: neither a bundled-format nor a Hugging Face model"
            )
        if _is_ngram_dir(path):
            return NgramClassifier.load(path, task)
        if read_config(path).get("format") == E5_FORMAT:
            return _load_e5(path, task)
        return _load_hf(str(path), task)
    if path.exists():
        raise ModelLoadError(f"{spec} is a file; a model spec is a directory, not a file")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise ModelLoadError(f"no such model directory {spec}")
    return _load_hf(spec, task)


def _load_hf(spec: str, task: str) -> TextClassifier:
    """Hugging Face models import transformers, which takes seconds: only when asked for."""
    from classifiers.hf import HFClassifier

    return HFClassifier(spec, task)


def _load_e5(directory: Path, task: str) -> TextClassifier:
    """Like `_load_hf`: torch, peft and transformers are imported only when asked for."""
    from classifiers.e5.classifier import load_e5

    return load_e5(directory, task)


def _bundled_e5() -> dict[str, tuple[Path, str]]:
    """Bundled name → (its `rufwacht-e5` directory, its task)."""
    names: dict[str, tuple[Path, str]] = {}
    for directory in sorted(BUNDLED_DIR.iterdir()):
        if (directory / CONFIG_FILE).is_file():
            config = read_config(directory)
            if config.get("format") == E5_FORMAT:
                names.update({n: (directory, t) for n, t in config.get("models", {}).items()})
    return names


def _is_ngram_dir(directory: Path) -> bool:
    """Whether the directory holds our n-gram format (a broken config.json raises)."""
    if not (directory / CONFIG_FILE).is_file():
        return False
    return read_config(directory).get("format") == FORMAT
