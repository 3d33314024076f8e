"""Speed and peak memory of a sentiment + offensive model pair, measured as the monitor runs them.

    python -m classifiers.training.speed SENTIMENT_SPEC OFFENSIVE_SPEC [--threads N]

Both models score the same call batches of posts (GermEval 2017/2018 test texts, used only
as realistic German input) in a fresh process, so the peak RSS is that of the models alone.
Model cards quote this, which is why training scripts call `measure` on their bundles.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from classifiers.e5.classifier import bf16_is_fast
from classifiers.evaluation import read_labelled_tsv
from classifiers.registry import load_classifier

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TIMING_FILES = (("sentiment", "germeval2017_test.tsv"), ("offensive", "germeval2018_test.tsv"))


def measure(sentiment: str, offensive: str, data_dir: Path, threads: int) -> dict[str, Any]:
    """Run `main` in a fresh process and return its figures."""
    command = [sys.executable, "-m", __spec__.name, sentiment, offensive]
    command += ["--data-dir", str(data_dir), "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> int:
    """This process's peak RSS since exec (VmHWM): `ru_maxrss` would report a training
    parent's peak, which a child spawned by fork inherits."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    raise OSError("no VmHWM in /proc/self/status: peak RSS is measured on Linux only")


def cpu_name() -> str:
    """The CPU's model name: speed figures differ by more than 2x between our machines."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    raise OSError("no model name in /proc/cpuinfo: speed is measured on Linux only")


def timing_texts(data_dir: Path, n: int) -> list[str]:
    """n/2 posts from each timing file."""
    return [
        text
        for task, name in TIMING_FILES
        for text in read_labelled_tsv(data_dir / task / "eval" / name, task)[0][: n // 2]
    ]


def speed(
    sentiment_spec: str,
    offensive_spec: str,
    data_dir: Path,
    threads: int,
    n: int = 2048,
    batch: int = 256,
) -> dict[str, Any]:
    """Posts/s for sentiment + offensive on the same posts, and this process's peak RSS."""
    torch.set_num_threads(threads)
    sentiment = load_classifier(sentiment_spec, "sentiment")
    offensive = load_classifier(offensive_spec, "offensive")
    texts = timing_texts(data_dir, n)
    for model in (sentiment, offensive):
        model.predict(["Aufwärmen", "nicht gemessen"])  # first calls allocate
    began = time.perf_counter()
    for start in range(0, len(texts), batch):
        sentiment.predict(texts[start : start + batch])
        offensive.predict(texts[start : start + batch])
    seconds = time.perf_counter() - began
    return {
        "posts_per_s": round(len(texts) / seconds, 1),
        "posts": len(texts),
        "call_batch": batch,
        "threads": threads,
        "peak_rss_mb": peak_rss_mb(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu": cpu_name(),
        "bf16_faster": bf16_is_fast(),
    }


def table(measured: dict[str, dict[str, Any]]) -> list[str]:
    """Model-card lines: one row per thread count measured."""
    return [
        "| torch threads | posts/s (both tasks) | peak RSS MB | load average | CPU | "
        "bf16 faster (a bf16 bundle uses it) |",
        "|---|---|---|---|---|---|",
        *(
            f"| {s['threads']} | {s['posts_per_s']} | {s['peak_rss_mb']} | "
            f"{s['load_average_1min']} | {s['cpu']} | "
            f"{'yes' if s['bf16_faster'] else 'no'} |"
            for s in measured.values()
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sentiment", help="sentiment model spec (bundled name or directory)")
    parser.add_argument("offensive", help="offensive model spec (bundled name or directory)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    print(json.dumps(speed(args.sentiment, args.offensive, args.data_dir, args.threads)))


if __name__ == "__main__":
    main()
