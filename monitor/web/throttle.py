"""Counting failed logins per key (user name, client address) to slow down password guessing.

`LoginThrottle` is the interface the login handler uses; `MemoryThrottle` keeps the counts in
this process. Several web processes would share one store (Redis) behind the same interface.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

FAILURE_LIMIT = 5
"""Failed logins per user name within the window before that name is refused."""
ADDRESS_FAILURE_LIMIT = 20
"""Failed logins per client address: higher, since an office shares one address."""
WINDOW_SECONDS = 15 * 60
MAX_KEYS = 10_000
"""Keys kept before stale ones are dropped."""


class LoginThrottle(Protocol):
    def blocked(self, key: str, limit: int) -> bool:
        """Whether `key` failed `limit` times or more within the window."""
        ...

    def record_failure(self, key: str) -> None: ...

    def clear(self, key: str) -> None:
        """Forget the failures of `key` (after a successful login)."""
        ...


class MemoryThrottle:
    """Failure times per key in a sliding window, in this process's memory."""

    def __init__(
        self, window_seconds: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: str, limit: int) -> bool:
        with self._lock:
            return len(self._recent(key)) >= limit

    def record_failure(self, key: str) -> None:
        with self._lock:
            if len(self._failures) >= MAX_KEYS:
                self._forget_stale()
            self._failures.setdefault(key, deque()).append(self._clock())

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.get(key, deque())
        horizon = self._clock() - self._window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures

    def _forget_stale(self) -> None:
        """Drop keys without a failure in the window, so guessed names cannot fill memory."""
        for key in [key for key in self._failures if not self._recent(key)]:
            del self._failures[key]
