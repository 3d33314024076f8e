"""Is a 24-hour count a spike? A pure test that behaves on small counts as on large ones.

Daily mention counts are counts: on a quiet brand they are Poisson noise around a small mean,
on a busy one they also swing with the news and the weekday. A k-sigma rule on the sample
standard deviation alone misfires on both: with seven days of 0–2 posts the spread is near
zero, so 4 posts are "ten sigma"; one earlier storm among the seven days inflates the spread
so much that the next storm goes unseen. So a spike needs all of:

1. at least `min_count` posts: a handful of posts is never a storm;
2. more than `k` deviations above the 7-day daily mean, the deviation being the larger of the
   days' robust spread (1.4826 × the median absolute deviation, which one outlier day does not
   move) and the Poisson noise of the mean (√mean, which a flat history cannot shrink to 0);
3. a one-sided Poisson test: at least this many posts would happen with probability below
   `p_value` if the day were like the mean (the exact tail, not the normal approximation that
   understates it for small means).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_TO_SIGMA = 1.4826
"""Scales a median absolute deviation to a normal standard deviation."""
MEAN_FLOOR = 0.5
"""A brand silent all week is tested against half a post a day, not against zero."""


@dataclass(frozen=True)
class SpikeTest:
    """The verdict on one count, with the figures an alert shows."""

    count: int
    baseline: float
    """The 7-day daily mean."""
    sigma: float
    threshold: float
    """baseline + k × sigma: the count must exceed it."""
    p_value: float
    """P(X ≥ count) for X ~ Poisson(baseline)."""
    spike: bool

    def as_dict(self) -> dict[str, float | int | bool]:
        return {
            "count": self.count,
            "baseline": round(self.baseline, 2),
            "sigma": round(self.sigma, 2),
            "threshold": round(self.threshold, 2),
            "p_value": self.p_value,
            "spike": self.spike,
        }


def poisson_tail(count: int, mean: float) -> float:
    """P(X ≥ count) for X ~ Poisson(mean), summed from `count` upwards in log space (exact
    for the upper tail, where the terms shrink fast once count exceeds the mean)."""
    if count <= 0:
        return 1.0
    if count <= mean:  # not in the upper tail: 1 − P(X < count), summed directly
        below = sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1)) for i in range(count))
        return max(0.0, min(1.0, 1.0 - below))
    term = math.exp(count * math.log(mean) - mean - math.lgamma(count + 1))
    total, i = 0.0, count
    while term > 0 and term > total * 1e-16:
        total += term
        i += 1
        term *= mean / i
    return min(1.0, total)


def robust_sigma(days: Sequence[int]) -> float:
    median = statistics.median(days)
    return MAD_TO_SIGMA * statistics.median(abs(day - median) for day in days)


def spike_test(
    count: int, days: Sequence[int], k: float, min_count: int, p_value: float
) -> SpikeTest:
    """Judge `count` (the last 24 hours) against `days` (the seven 24-hour counts before)."""
    if not days:
        raise ValueError("a spike needs a history to compare with")
    mean = statistics.fmean(days)
    sigma = max(robust_sigma(days), math.sqrt(max(mean, MEAN_FLOOR)))
    threshold = mean + k * sigma
    tail = poisson_tail(count, max(mean, MEAN_FLOOR))
    spike = count >= min_count and count > threshold and tail < p_value
    return SpikeTest(count, mean, sigma, threshold, tail, spike)


def elevated(recent: int, expected: float, k: float) -> bool:
    """Whether `recent` posts in the last hours are above the `expected` rate by more than `k`
    Poisson deviations: the storm is happening now, not only somewhere in the 24-hour window."""
    return recent > expected + k * math.sqrt(max(expected, MEAN_FLOOR))
