"""The model registry: immutable model versions, a champion per task, promotion and rollback.

A folder on disk, no server:

    REGISTRY/
      versions/NAME/card.json    what the version is: tasks, metrics per held-out set, data,
                                 date, parent version, training command
      versions/NAME/model/       its files (config.json, weights or adapter), copied in once
      aliases.json               per task: champion, challenger, the champions before
      history.jsonl              one line per change of an alias: who, when, why, --force

A version folder is written once (staged, then renamed into place) and never changed; a new
model gets a new `model_version`. The bundled models are the registry's first versions: their
folder holds only a card naming the bundled directory (`"bundled": "ngram-sentiment"`), so the
registry never copies what the package already ships, and a registry that was never written
to reads as exactly those versions with the bundled defaults as champions.

Promotion compares held-out figures on every set both cards measured and refuses a version
worse than the champion by more than a tolerance, unless forced with a reason; both land in
the history. A notebook writes a trained model in with `register_version`.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifiers.base import ModelLoadError, read_config
from classifiers.registry import BUNDLED_DIR, bundled_models

TASKS = ("sentiment", "offensive", "triage")
"""The tasks whose model the registry chooses (the troll score and spam rule are rules)."""
DEFAULT_CHAMPIONS = {"sentiment": "e5-sentiment", "offensive": "e5-offensive", "triage": "triage"}
"""The bundled model each task starts with, before anything was promoted."""
ALIASES = ("champion", "challenger")
COMPARED = (
    "micro_f1",
    "macro_f1",
    "negative_recall",
    "category_macro_f1",
    "action_accuracy",
    "troll_f1",
    "threat_recall",
)
"""Card figures promotion compares (higher is better), where both cards have them."""

VERSIONS_DIR = "versions"
CARD_FILE = "card.json"
MODEL_DIR = "model"
ALIASES_FILE = "aliases.json"
HISTORY_FILE = "history.jsonl"
LOCK_FILE = ".lock"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")


class RegistryError(ValueError):
    """The registry cannot do what was asked; the message says why and what to do."""


class PromotionRefused(RegistryError):
    """The candidate is worse than the champion on a held-out set (or cannot be compared)."""

    def __init__(self, message: str, worse: list[Worse]) -> None:
        super().__init__(message)
        self.worse = worse


@dataclass(frozen=True)
class Worse:
    """One held-out figure on which a candidate falls short of the champion."""

    dataset: str
    figure: str
    candidate: float
    champion: float

    def __str__(self) -> str:
        return f"{self.dataset} {self.figure} {self.candidate:.4f} < {self.champion:.4f}"


@dataclass(frozen=True)
class Version:
    """One model version: its card and where its files are."""

    name: str
    tasks: tuple[str, ...]
    card: dict[str, Any]
    directory: Path
    """The model directory (a bundled one, or the version folder's `model/`)."""
    bundled: str | None = None
    """The bundled directory's name, for versions the package ships."""

    def metrics(self, task: str) -> dict[str, dict[str, Any]]:
        """Figures per held-out set for `task`."""
        return dict(self.card.get("metrics", {}).get(task, {}))

    def spec(self, task: str) -> str:
        """What `classifiers.registry.load_classifier` (or `TriageModel.load`) loads: a bundled
        name where there is one, so one process never loads a bundled model twice."""
        if task == "triage":
            return str(self.directory)
        for name, (directory, model_task) in bundled_models().items():
            if model_task == task and directory == self.directory:
                return name
        return str(self.directory)


@dataclass(frozen=True)
class TaskAliases:
    champion: str
    challenger: str | None = None
    previous: tuple[str, ...] = ()
    """Earlier champions, the latest last: what `rollback` returns to."""


@dataclass
class Scan:
    """The versions a registry holds and the folders that are not valid versions."""

    versions: dict[str, Version] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class Registry:
    """A registry folder; reading never writes, and a missing folder reads as the bundled
    versions with their default champions."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()

    # --- reading

    def scan(self) -> Scan:
        scan = Scan(versions=_bundled_versions())
        folder = self.root / VERSIONS_DIR
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if path.name.startswith(".") or not path.is_dir():
                continue
            try:
                version = _read_version(path)
            except RegistryError as exc:
                scan.problems.append(str(exc))
                continue
            if version.bundled is None or version.name not in scan.versions:
                scan.versions[version.name] = version
        return scan

    def versions(self) -> dict[str, Version]:
        return self.scan().versions

    def version(self, name: str) -> Version:
        """The version `name`; `RegistryError` for an unknown one or a broken card."""
        path = self.root / VERSIONS_DIR / name
        if _NAME.match(name) and path.is_dir():
            return _read_version(path)
        if (version := _bundled_versions().get(name)) is not None:
            return version
        known = ", ".join(sorted(self.versions())) or "none"
        raise RegistryError(f"unknown model version {name!r} (known: {known})")

    def aliases(self, task: str) -> TaskAliases:
        _check_task(task)
        entry = self._read_aliases().get(task, {})
        champion = entry.get("champion")
        if champion is None or self._shipped_earlier(champion):
            champion = _default_champion(task)
        return TaskAliases(
            champion=champion,
            challenger=entry.get("challenger"),
            previous=tuple(entry.get("previous", ())),
        )

    def _shipped_earlier(self, name: str) -> bool:
        """A bundled version of an earlier release: after an upgrade that replaced a bundled
        model, a champion the team never trained follows the new release's default."""
        card = self.root / VERSIONS_DIR / name / CARD_FILE
        try:
            bundled = json.loads(card.read_text("utf-8")).get("bundled")
        except (OSError, ValueError, AttributeError):
            return False
        return bool(bundled) and _stale_bundled(name, bundled) is not None

    def champion(self, task: str) -> Version:
        return self.version(self.aliases(task).champion)

    def stamp(self) -> tuple[int, int, int] | None:
        """Changes whenever an alias does (the aliases file is replaced, never edited): one
        `stat`, cheap enough to ask before every batch."""
        try:
            info = (self.root / ALIASES_FILE).stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def history(self, task: str | None = None) -> list[dict[str, Any]]:
        path = self.root / HISTORY_FILE
        if not path.exists():
            return []
        entries = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
        return [e for e in entries if task is None or task in str(e.get("task")).split(",")]

    # --- changing

    def promote(
        self,
        name: str,
        task: str,
        tolerance: float,
        force: bool = False,
        reason: str | None = None,
        alias: str = "champion",
        by: str | None = None,
    ) -> list[Worse]:
        """Make `name` the task's champion (or challenger); returns the figures on which a
        forced promotion was worse. Refuses (`PromotionRefused`) a version worse than the
        champion by more than `tolerance` on any held-out figure both cards have, or one
        that shares no held-out set with it, unless `force` with a `reason`."""
        _check_task(task)
        if alias not in ALIASES:
            raise RegistryError(f"unknown alias {alias!r}; one of {', '.join(ALIASES)}")
        if force and not (reason or "").strip():
            raise RegistryError("--force needs --reason: say why the checks do not apply")
        candidate = self.version(name)
        if task not in candidate.tasks:
            raise RegistryError(
                f"{name} is a model for {', '.join(candidate.tasks)}, not for {task}"
            )
        with self._locked():
            current = self.aliases(task)
            if alias == "champion" and current.champion == name:
                raise RegistryError(f"{name} is already the {task} champion")
            worse: list[Worse] = []
            if alias == "champion":
                champion = self.version(current.champion)
                worse = compare(candidate, champion, task, tolerance)
                if not force:
                    _refuse_if_worse(candidate, champion, task, worse, tolerance)
            load_version(candidate, task)  # a version that cannot load never serves
            replaced = getattr(current, alias)
            self._set_aliases(task, current, alias, name)
            self._log(
                action="promote",
                task=task,
                alias=alias,
                version=name,
                replaced=replaced,
                by=by,
                reason=reason,
                forced=force,
                worse=[w.__dict__ for w in worse],
            )
        return worse

    def rollback(self, task: str, reason: str | None = None, by: str | None = None) -> str:
        """Make the previous champion the champion again; returns its name."""
        with self._locked():
            current = self.aliases(task)
            if not current.previous:
                raise RegistryError(
                    f"no earlier {task} champion to roll back to: {current.champion} is the "
                    "first one recorded"
                )
            target = current.previous[-1]
            load_version(self.version(target), task)
            entries = self._read_aliases()
            entries[task] = {
                **entries.get(task, {}),
                "champion": target,
                "previous": list(current.previous[:-1]),
            }
            self._write_aliases(entries)
            self._log(
                action="rollback",
                task=task,
                alias="champion",
                version=target,
                replaced=current.champion,
                by=by,
                reason=reason,
                forced=False,
                worse=[],
            )
        return target

    def register(
        self, directory: Path, tasks: Sequence[str], card: Mapping[str, Any], by: str | None = None
    ) -> Version:
        """Copy a trained model directory in as a new version named by its config's
        `model_version`, with `card` (metrics per task and held-out set, data, parent,
        training command); the model must load for every task it claims."""
        tasks = tuple(tasks)
        for task in tasks:
            _check_task(task)
        if not tasks:
            raise RegistryError("a version serves at least one task")
        try:
            name = str(read_config(directory)["model_version"])
        except (ModelLoadError, KeyError) as exc:
            raise RegistryError(f"{directory}: no model_version in its config.json") from exc
        if not _NAME.match(name):
            raise RegistryError(f"model_version {name!r} is not a usable folder name")
        if card.get("model_version", name) != name:
            raise RegistryError(
                f"the card names {card['model_version']!r}, the model's config {name!r}"
            )
        for task in tasks:
            load_version(Version(name, tasks, {}, directory), task)
        with self._locked():
            if name in self.versions():
                raise RegistryError(
                    f"version {name} already exists; versions never change: give the new "
                    "model a new model_version"
                )
            full_card = {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "parent": self.aliases(tasks[0]).champion,
                **card,
                "model_version": name,
                "tasks": list(tasks),
                "metrics": _task_metrics(card.get("metrics", {}), tasks),
                "format": read_config(directory).get("format"),
            }
            if problem := _card_problem(full_card, name):
                raise RegistryError(f"the card for {name} is not usable: {problem}")
            staging = self.root / VERSIONS_DIR / f".staging-{name}-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.copytree(directory, staging / MODEL_DIR)
            _write_json(staging / CARD_FILE, full_card)
            os.replace(staging, self.root / VERSIONS_DIR / name)
            self._log(
                action="register",
                task=",".join(tasks),
                alias=None,
                version=name,
                replaced=None,
                by=by,
                reason=None,
                forced=False,
                worse=[],
                training_command=card.get("training_command"),
            )
        return self.version(name)

    # --- files

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time; creates the registry (with cards for the bundled
        versions) on its first write."""
        if not self.root.parent.is_dir():
            raise RegistryError(
                f"cannot create the model registry {self.root}: "
                f"folder {self.root.parent} does not exist ([models] registry)"
            )
        if self.root.exists() and not self.root.is_dir():
            raise RegistryError(f"the model registry {self.root} is a file, not a folder")
        (self.root / VERSIONS_DIR).mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK_FILE).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._write_bundled_cards()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write_bundled_cards(self) -> None:
        for version in _bundled_versions().values():
            folder = self.root / VERSIONS_DIR / version.name
            if not folder.exists():
                staging = folder.with_name(f".staging-{version.name}-{os.getpid()}")
                staging.mkdir(exist_ok=True)
                _write_json(staging / CARD_FILE, version.card)
                os.replace(staging, folder)

    def _read_aliases(self) -> dict[str, dict[str, Any]]:
        path = self.root / ALIASES_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{path}: unreadable ({exc})") from exc
        if not isinstance(data, dict):
            raise RegistryError(f"{path}: not a JSON object")
        return data

    def _set_aliases(self, task: str, current: TaskAliases, alias: str, name: str) -> None:
        entries = self._read_aliases()
        entry = {"champion": current.champion, "previous": list(current.previous)}
        entry |= {k: v for k, v in entries.get(task, {}).items() if k == "challenger"}
        if alias == "champion":
            entry["previous"].append(current.champion)
            if entry.get("challenger") == name:
                entry["challenger"] = None
        entry[alias] = name
        entries[task] = entry
        self._write_aliases(entries)

    def _write_aliases(self, entries: dict[str, Any]) -> None:
        _write_json(self.root / ALIASES_FILE, entries)

    def _log(self, **entry: Any) -> None:
        line = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            **entry,
            "by": entry.get("by") or _user(),
        }
        with (self.root / HISTORY_FILE).open("a", encoding="utf-8") as history:
            history.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
            history.flush()
            os.fsync(history.fileno())


def register_version(
    registry: Registry | Path | str,
    task: str | Sequence[str],
    directory: Path | str,
    card: Mapping[str, Any],
) -> str:
    """For notebooks: write a trained model into the registry as a new version (not yet
    promoted); returns its name. Creates the registry, as the first promotion would, where
    its parent folder exists (a run of hours must not fail on a fresh install). `card`:
    "metrics" ({set: {figure: value}} per task, or per set for one task), "data",
    "training_command", optionally "parent" and "date"."""
    registry = registry if isinstance(registry, Registry) else Registry(registry)
    tasks = (task,) if isinstance(task, str) else tuple(task)
    return registry.register(Path(directory), tasks, card).name


def compare(candidate: Version, champion: Version, task: str, tolerance: float) -> list[Worse]:
    """Every held-out figure both cards have on which the candidate is more than
    `tolerance` worse."""
    ours, theirs = candidate.metrics(task), champion.metrics(task)
    worse = []
    for dataset in sorted(set(ours) & set(theirs)):
        for figure in COMPARED:
            mine, best = ours[dataset].get(figure), theirs[dataset].get(figure)
            numbers = isinstance(mine, int | float) and isinstance(best, int | float)
            if numbers and mine < best - tolerance:
                worse.append(Worse(dataset, figure, float(mine), float(best)))
    return worse


def shared_sets(candidate: Version, champion: Version, task: str) -> list[str]:
    return sorted(set(candidate.metrics(task)) & set(champion.metrics(task)))


def load_version(version: Version, task: str) -> object:
    """Load the version for `task` (cached per process); `RegistryError` if it cannot."""
    if not version.directory.is_dir():
        raise RegistryError(
            f"{version.name}: its model directory {version.directory} is gone"
            + (" (no longer shipped with this Rufwacht)" if version.bundled else "")
        )
    try:
        if task == "triage":
            from classifiers.triage import TriageModel

            return TriageModel.load(version.directory)
        from classifiers.registry import load_classifier

        return load_classifier(version.spec(task), task)
    except ModelLoadError as exc:
        raise RegistryError(f"version {version.name} does not load: {exc}") from exc


def _refuse_if_worse(
    candidate: Version, champion_version: Version, task: str, worse: list[Worse], tolerance: float
) -> None:
    champion = champion_version.name
    if not candidate.metrics(task):
        raise PromotionRefused(
            f"{candidate.name} has no held-out {task} figures on its card; "
            "measure it, or use --force --reason",
            [],
        )
    if not shared_sets(candidate, champion_version, task):
        raise PromotionRefused(
            f"{candidate.name} shares no held-out {task} set with the champion {champion}: "
            "nothing shows it is as good; measure both on one set, or use --force --reason",
            [],
        )
    if worse:
        raise PromotionRefused(
            f"{candidate.name} is worse than the {task} champion {champion} by more than "
            f"{tolerance:g} on: " + "; ".join(map(str, worse)) + " (--force --reason overrides)",
            worse,
        )


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise RegistryError(f"unknown task {task!r}; the registry serves {', '.join(TASKS)}")


def _default_champion(task: str) -> str:
    from classifiers.triage import BUNDLED_DIR as TRIAGE_DIR

    name = DEFAULT_CHAMPIONS[task]
    directory = TRIAGE_DIR if task == "triage" else bundled_models()[name][0]
    return str(read_config(directory)["model_version"])


def _bundled_versions() -> dict[str, Version]:
    """The versions the package ships, with cards made from their config.json."""
    grouped: dict[Path, list[str]] = {}
    for directory, task in bundled_models().values():
        grouped.setdefault(directory, []).append(task)
    from classifiers.triage import BUNDLED_DIR as TRIAGE_DIR

    grouped[TRIAGE_DIR] = ["triage"]
    versions = {}
    for directory, tasks in grouped.items():
        config = read_config(directory)
        name = str(config["model_version"])
        per_task = config.get("tasks", {})
        metrics = {t: dict(per_task.get(t, config).get("eval", {})) for t in tasks}
        card = {
            "model_version": name,
            "tasks": sorted(set(tasks)),
            "bundled": directory.name,
            "format": config.get("format"),
            "metrics": metrics,
            "data": f"see {directory.name}/MODEL_CARD.md in classifiers/bundled",
            "parent": None,
            "training_command": "make train",
        }
        versions[name] = Version(name, tuple(sorted(set(tasks))), card, directory, directory.name)
    return versions


def _read_version(path: Path) -> Version:
    """A version folder; `RegistryError` naming the problem when its card is broken."""
    card_path = path / CARD_FILE
    try:
        card = json.loads(card_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError(f"broken card {card_path}: {exc}") from exc
    problem = _card_problem(card, path.name)
    if problem:
        raise RegistryError(f"broken card {card_path}: {problem}")
    bundled = card.get("bundled")
    if bundled and (stale := _stale_bundled(path.name, bundled)):
        raise RegistryError(stale)
    directory = BUNDLED_DIR / bundled if bundled else path / MODEL_DIR
    return Version(path.name, tuple(card["tasks"]), card, directory, bundled)


def _stale_bundled(name: str, bundled: str) -> str | None:
    """Why a bundled card named `name` no longer matches the package's files, if it does not:
    a later release ships another version in that bundled directory."""
    shipped = {v.bundled: v.name for v in _bundled_versions().values()}.get(bundled)
    if shipped == name:
        return None
    return (
        f"{name} was shipped by an earlier release; this one ships "
        f"{shipped or 'nothing'} in classifiers/bundled/{bundled}"
    )


def _card_problem(card: Any, name: str) -> str | None:
    if not isinstance(card, dict):
        return "not a JSON object"
    if card.get("model_version") != name:
        return f"model_version {card.get('model_version')!r} is not the folder's name {name!r}"
    tasks = card.get("tasks")
    if not isinstance(tasks, list) or not tasks or any(t not in TASKS for t in tasks):
        return f"tasks must be a list of {', '.join(TASKS)}"
    metrics = card.get("metrics", {})
    if not isinstance(metrics, dict) or not all(
        isinstance(sets, dict) and all(isinstance(f, dict) for f in sets.values())
        for sets in metrics.values()
    ):
        return "metrics must map task → held-out set → figures"
    return None


def _task_metrics(metrics: Mapping[str, Any], tasks: tuple[str, ...]) -> dict[str, Any]:
    """Metrics keyed by task; a one-task card may give them per set directly."""
    if len(tasks) == 1 and metrics and tasks[0] not in metrics:
        return {tasks[0]: dict(metrics)}
    return {task: dict(metrics.get(task, {})) for task in tasks}


def _write_json(path: Path, data: Any) -> None:
    """Write `path` whole or not at all: a reader sees the old file or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
