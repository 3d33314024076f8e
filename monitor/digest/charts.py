"""The digest's two charts as PNG bytes (matplotlib's object API on the Agg canvas).

No pyplot: its global figure registry is not thread-safe, and the scheduler renders digests
in worker threads; a bare `Figure` needs no display and no backend switch.

Each chart carries its figures in the mail's tables too, so the mail reads fine with images
blocked; the charts only show the shape at a glance.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from monitor.digest.build import SENTIMENT_NAMES, SentimentDay

COLOURS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
WIDTH, HEIGHT, DPI = 6.0, 2.4, 100
"""600 × 240 pixels: the width of the mail's content column."""


def sentiment_trend(days: Sequence[SentimentDay]) -> bytes:
    """Stacked bars: posts per day and sentiment over the last two weeks."""
    figure, axes = _figure()
    positions = list(range(len(days)))
    bottom = [0] * len(days)
    for sentiment in ("negative", "neutral", "positive"):
        values = [day.counts.get(sentiment, 0) for day in days]
        axes.bar(
            positions,
            values,
            bottom=bottom,
            color=COLOURS[sentiment],
            label=SENTIMENT_NAMES[sentiment],
            width=0.7,
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(positions, [f"{day.day:%d.%m.}" for day in days], fontsize=7)
    axes.set_title("Stimmung der Erwähnungen, 14 Tage", loc="left", fontsize=10)
    axes.legend(fontsize=8, frameon=False, loc="upper left", ncols=3)
    axes.set_ylim(0, max(max(bottom, default=0), 1) * 1.3)
    return _png(figure)


def hourly_volume(hours: Sequence[tuple[str, int]]) -> bytes:
    """Bars: mentions per local hour of the day."""
    figure, axes = _figure()
    positions = list(range(len(hours)))
    counts = [count for _, count in hours]
    axes.bar(positions, counts, color="#2c6fbb", width=0.8)
    axes.set_xticks(positions, [hour for hour, _ in hours], fontsize=7)
    axes.set_title("Erwähnungen je Stunde (Ortszeit)", loc="left", fontsize=10)
    axes.set_ylim(0, max(max(counts, default=0), 1) * 1.15)
    return _png(figure)


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    figure.subplots_adjust(left=0.07, right=0.99, top=0.88, bottom=0.17)  # tight_layout: 3× slower
    axes = figure.subplots()
    axes.spines[["top", "right"]].set_visible(False)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=8)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
