"""Which model serves each task now: the config's specs, `champion` resolved through the
model registry and resolved again whenever an alias changes.

`[classifiers] sentiment = "champion"` (the default) follows the registry: a promotion or
rollback reaches every running process at its next batch, without a restart. Any other spec
(`e5-sentiment`, a directory, a hub id) pins that model, as before the registry existed.
"""

from __future__ import annotations

import threading

from classifiers.model_registry import TASKS, Registry
from monitor.settings import Settings

CHAMPION = "champion"


class ServingModels:
    """The loadable spec per task (`spec`), cheap to ask before every batch: the registry's
    aliases are read again only when their file changed."""

    def __init__(self, configured: dict[str, str], registry: Registry) -> None:
        self.configured = configured
        self.registry = registry
        self._lock = threading.Lock()
        self._stamp: object = object()  # never equal to a real stamp: read on first use
        self._champions: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ServingModels:
        classifiers = settings.classifiers
        configured = {task: getattr(classifiers, task) for task in TASKS}
        return cls(configured, Registry(settings.models.registry))

    def spec(self, task: str) -> str:
        """A bundled name, a directory or a hub id for `task`; raises `RegistryError` when
        the registry's champion cannot be found."""
        configured = self.configured[task]
        if configured != CHAMPION:
            return configured
        return self._current()[task]

    def specs(self) -> dict[str, str]:
        """Every task's spec: compared to notice a change."""
        return {task: self.spec(task) for task in TASKS}

    def follows_registry(self, task: str) -> bool:
        return self.configured[task] == CHAMPION

    def _current(self) -> dict[str, str]:
        stamp = self.registry.stamp()
        with self._lock:
            if stamp != self._stamp:
                self._champions = {task: self.registry.champion(task).spec(task) for task in TASKS}
                self._stamp = stamp
            return self._champions
