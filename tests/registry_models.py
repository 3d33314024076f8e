"""Model registries for tests: fast bundled n-gram champions and "newly trained" versions made
from bundled models (a new model_version, weights as shipped unless a test changes them)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from classifiers.model_registry import Registry
from classifiers.registry import BUNDLED_DIR
from monitor.runtime import Runtime
from monitor.settings import Settings
from monitor.storage.database import Database

TOLERANCE = 0.005


def bundled_figures(name: str) -> dict[str, dict[str, Any]]:
    return json.loads((BUNDLED_DIR / name / "config.json").read_text("utf-8"))["eval"]


def trained_model(tmp_path: Path, version: str, bundled: str = "ngram-sentiment") -> Path:
    """A "newly trained" model: a bundled n-gram model under a new model_version."""
    target = tmp_path / "training" / version
    shutil.copytree(BUNDLED_DIR / bundled, target)
    config = json.loads((target / "config.json").read_text("utf-8"))
    config["model_version"] = version
    (target / "config.json").write_text(json.dumps(config), "utf-8")
    return target


def card(figures: dict[str, dict[str, Any]], change: float = 0.0) -> dict[str, Any]:
    """A model card whose held-out figures are `figures` moved by `change`."""
    moved = {
        dataset: {k: v + change if k in ("micro_f1", "macro_f1") else v for k, v in f.items()}
        for dataset, f in figures.items()
    }
    return {
        "metrics": moved,
        "data": "GermEval 2017 train + labels.jsonl (Testdaten)",
        "training_command": "python -m classifiers.training.train_ngram --task sentiment",
    }


def fast_registry(root: Path) -> Registry:
    """A registry whose text champions are the bundled n-gram models (fast to load)."""
    registry = Registry(root)
    for version, task in (
        ("ngram-sentiment-1.0", "sentiment"),
        ("ngram-offensive-1.0", "offensive"),
    ):
        registry.promote(version, task, TOLERANCE, force=True, reason="Tests: schnelle Modelle")
    return registry


def dismissive_triage(tmp_path: Path, version: str) -> Path:
    """A triage model that calls every post irrelevant: a champion that queues nothing."""
    from safetensors.numpy import load_file, save_file

    target = trained_model(tmp_path, version, "triage")
    weights = load_file(target / "weights.safetensors")
    labels = json.loads((target / "config.json").read_text("utf-8"))["heads"]["category"]
    for head in ("category", "words"):
        weights[f"{head}.bias"][labels.index("irrelevant")] = 1000.0
    save_file(weights, str(target / "weights.safetensors"))
    return target


def runtime_on(settings: Settings, db: Database, registry: Registry) -> Runtime:
    """The service's runtime on the test database, following `registry`'s champions."""
    models = settings.models.model_copy(update={"registry": str(registry.root)})
    return Runtime(settings.model_copy(update={"models": models}), db)
