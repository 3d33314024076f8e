"""`make bench`: speed and memory of the default classifiers on this machine.

Timing texts are GermEval 2017 test posts when `../shared/data` is present (used only as
realistic German input, never for tuning), else the bundled demo feed.
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from classifiers.troll import HistorySignals
from connectors.replay import demo_feed_dir
from monitor.matching import Matcher
from monitor.scoring import Scorer, author_signals
from monitor.settings import default_settings

ROOT = Path(__file__).resolve().parents[1]
TIMING_DATA = ROOT.parent / "shared" / "data" / "sentiment" / "eval" / "germeval2017_test.tsv"
POSTS = 2000
THREADS = 2


def timing_texts(count: int) -> list[str]:
    if TIMING_DATA.exists():
        with TIMING_DATA.open(encoding="utf-8") as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            texts = [row["text"] for row in rows]
    else:
        lines = (demo_feed_dir() / "demo.jsonl").read_text("utf-8").splitlines()
        texts = [json.loads(line)["text"] for line in lines]
    return (texts * (count // len(texts) + 1))[:count]


def posts_per_second(work: Callable[[Sequence[str]], object], texts: Sequence[str]) -> float:
    work(texts[:64])  # warm-up: first calls allocate
    start = time.perf_counter()
    work(texts)
    return len(texts) / (time.perf_counter() - start)


def classify_peak_rss_mb(texts: Sequence[str]) -> float:
    """Peak resident memory of a real `rufwacht classify` process over the texts."""
    lines = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts))
    subprocess.run(
        [str(Path(sys.executable).parent / "rufwacht"), "classify"],
        input=lines.encode(),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    torch.set_num_threads(THREADS)
    settings = default_settings()
    scorer = Scorer.from_settings(settings)
    matcher = Matcher(settings.brands, settings.keywords.negative)
    texts = timing_texts(POSTS)
    no_author = [author_signals(None)] * len(texts)
    no_history = [HistorySignals()] * len(texts)

    def full(batch: Sequence[str]) -> None:
        [matcher.match(t) for t in batch]
        scorer.score(batch, no_author[: len(batch)], no_history[: len(batch)])

    figures = {
        "sentiment_posts_per_s": posts_per_second(scorer.sentiment.predict_proba, texts),
        "offensive_posts_per_s": posts_per_second(scorer.offensive.predict_proba, texts),
        "classify_posts_per_s": posts_per_second(full, texts),
        "classify_peak_rss_mb": classify_peak_rss_mb(texts),
    }
    table = Table("measure", "value", title=f"{len(texts)} German posts, {THREADS} threads")
    for name, value in figures.items():
        table.add_row(name, f"{value:,.0f}")
    Console().print(table)
    print(json.dumps({k: round(v, 1) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
