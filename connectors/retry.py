"""Bounded retries for platform calls: back off on server trouble, wait out rate limits.

Connectors classify their client's exceptions (transient, rate limited, or neither) and let
this module decide when to try again. Sleeping goes through an injected function, so a test
can observe a one-hour rate-limit wait without spending it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential

from connectors.base import SourceError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RATE_LIMIT_WAIT = 60.0
"""Seconds to wait after a rate-limit answer that does not say when the limit resets."""

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a source is marked failing until its next poll."""

    attempts: int = 4
    """Tries per call, counting the first; server errors, timeouts and rate limits alike."""
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    max_rate_limit_wait: float = 900.0
    """A rate limit resetting later than this fails the poll instead of blocking it."""


@dataclass(frozen=True)
class Classifier:
    """How one client's exceptions map onto retry decisions."""

    transient: Callable[[BaseException], bool]
    """Server errors and timeouts: worth another try after a jittered back-off."""
    rate_limit_delay: Callable[[BaseException], float | None]
    """Seconds until the rate limit resets, or None if the exception is no rate limit."""

    def retryable(self, exc: BaseException) -> bool:
        return self.transient(exc) or self.rate_limit_delay(exc) is not None


def call_with_retries(
    call: Callable[[], T],
    *,
    source: str,
    what: str,
    policy: RetryPolicy,
    classifier: Classifier,
    sleep: Sleep,
) -> T:
    """Run `call`, retrying per `policy`; exhausted retries raise `SourceError` naming `what`.

    Exceptions the classifier does not consider retryable propagate unchanged, so the caller
    can turn them into precise messages (e.g. which credential was rejected).
    """
    backoff = wait_random_exponential(
        multiplier=policy.backoff_seconds, max=policy.backoff_max_seconds
    )

    def wait(state: RetryCallState) -> float:
        delay = classifier.rate_limit_delay(_exception(state))
        return backoff(state) if delay is None else delay

    def stop(state: RetryCallState) -> bool:
        delay = classifier.rate_limit_delay(_exception(state))
        too_long = delay is not None and delay > policy.max_rate_limit_wait
        return too_long or state.attempt_number >= policy.attempts

    def before_sleep(state: RetryCallState) -> None:
        seconds = state.upcoming_sleep
        log.warning(
            "%s: %s failed (%s), retrying in %.1f s", source, what, _exception(state), seconds
        )

    retrying = Retrying(
        retry=retry_if_exception(classifier.retryable),
        wait=wait,
        stop=stop,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(call)
    except Exception as exc:
        if not classifier.retryable(exc):
            raise
        delay = classifier.rate_limit_delay(exc)
        if delay is not None and delay > policy.max_rate_limit_wait:
            problem = (
                f"{what}: rate limited for another {delay:.0f} s "
                f"(more than the {policy.max_rate_limit_wait:.0f} s a poll may wait)"
            )
        else:
            problem = f"{what}: still failing after {policy.attempts} attempts: {exc}"
        raise SourceError(source, problem) from exc


def _exception(state: RetryCallState) -> BaseException:
    assert state.outcome is not None and state.outcome.failed
    exc = state.outcome.exception()
    assert exc is not None
    return exc
