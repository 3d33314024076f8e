"""`make bench`: start-up times of the command line, speed and memory of the default
classifiers, and queue page latency (`scripts.bench_queue`) on this machine.

Timing texts are GermEval 2017 test posts when `../shared/data` is present (used only as
realistic German input, never for tuning), else the bundled demo feed. For scale, the same
run times a bert-base-sized classifier (the size of german-sentiment-bert; random weights,
since speed does not depend on them) on the same texts, tokenised to the same lengths.
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median

import torch
from rich.console import Console
from rich.table import Table
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

from classifiers.e5.cache import build_encoder
from classifiers.e5.classifier import bf16_is_fast, quantise
from classifiers.troll import HistorySignals
from connectors.replay import demo_feed_dir
from monitor.matching import Matcher
from monitor.scoring import Scorer, author_signals
from monitor.settings import default_settings
from scripts import bench_queue

ROOT = Path(__file__).resolve().parents[1]
TIMING_DATA = ROOT.parent / "shared" / "data" / "sentiment" / "eval" / "germeval2017_test.tsv"
POSTS = 2400
BERT_POSTS = 256
THREADS = 2
STARTUP_RUNS = 5
STARTUP_POST = {"id": "1", "text": "Die Bahn ist schon wieder zu spät, unzumutbar!"}


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
    work([f"Aufwärmen {n}, nicht gemessen" for n in range(64)])  # first calls allocate
    start = time.perf_counter()
    work(texts)
    return len(texts) / (time.perf_counter() - start)


def bert_base_posts_per_second(texts: Sequence[str], variant: str) -> float:
    """A bert-base sequence classifier, batch 32, length-sorted, at most 64 tokens, in the
    variant's precision: our own bf16 is compared with a bf16 bert-base, too."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(build_encoder(progress=False))
    config = BertConfig(vocab_size=31_102, num_labels=3)  # gbert/german-sentiment-bert size
    model = quantise(BertForSequenceClassification(config).eval(), variant)
    ids = tokenizer(list(texts), truncation=True, max_length=64)["input_ids"]
    ids = [[token % config.vocab_size for token in row] for row in ids]

    @torch.inference_mode()
    def run(batch_texts: Sequence[str]) -> None:
        rows = sorted(ids[: len(batch_texts)], key=len)
        for start in range(0, len(rows), 32):
            batch = tokenizer.pad({"input_ids": rows[start : start + 32]}, return_tensors="pt")
            model(**batch)

    return posts_per_second(run, texts)


def classify_peak_rss_mb(texts: Sequence[str]) -> float:
    """Peak resident memory of a real `rufwacht classify` process over the texts."""
    lines = "".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts))
    subprocess.run(
        rufwacht("classify"),
        input=lines.encode(),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def rufwacht(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "rufwacht"), *args]


def seconds_to_exit(command: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def seconds_to_first_line(command: list[str], cwd: str, line: str) -> float:
    """Until the first output line: what a user piping one post into a command waits."""
    start = time.perf_counter()
    with subprocess.Popen(
        command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdin and process.stdout
        process.stdin.write(line)
        process.stdin.close()
        process.stdout.readline()
        return time.perf_counter() - start


def startup_seconds() -> dict[str, float]:
    """Median wall time of fresh `rufwacht` processes, in a scratch directory and database.

    Start-up is what a user waits for in `--help`, `init` and `queue list`, and before
    `classify` answers its first post.
    """
    with tempfile.TemporaryDirectory() as scratch:
        config = str(Path(scratch) / "rufwacht.toml")
        commands = {  # in this order: `init` writes the config the others read
            "startup_help_s": rufwacht("--help"),
            "startup_init_s": rufwacht("init", "-c", config, "--force"),
            "startup_queue_list_s": rufwacht("queue", "list", "-c", config),
        }
        figures = {
            name: median(seconds_to_exit(command, scratch) for _ in range(STARTUP_RUNS))
            for name, command in commands.items()
        }
        post = json.dumps(STARTUP_POST, ensure_ascii=False) + "\n"
        classify = rufwacht("classify", "-c", config)
        figures["startup_classify_first_post_s"] = median(
            seconds_to_first_line(classify, scratch, post) for _ in range(STARTUP_RUNS)
        )
    return figures


def decimals(figure: str) -> int:
    """Start-up times are fractions of a second; the other figures are large."""
    return 2 if figure.startswith("startup_") else 1


def main() -> None:
    torch.set_num_threads(THREADS)
    texts = timing_texts(POSTS)
    # First, while this process is small: a child started by fork starts with the parent's
    # resident pages, and those count towards the child's peak.
    peak_rss_mb = classify_peak_rss_mb(texts)
    startup = startup_seconds()
    settings = default_settings()
    scorer = Scorer.from_settings(settings)
    matcher = Matcher(settings.brands, settings.keywords.negative)
    no_author = [author_signals(None)] * len(texts)
    no_history = [HistorySignals()] * len(texts)

    def full(batch: Sequence[str]) -> None:
        [matcher.match(t) for t in batch]
        scorer.score(batch, no_author[: len(batch)], no_history[: len(batch)])

    # Each measure gets posts no model has seen in this process: the e5 models remember
    # recent texts' embeddings, which would time a cache instead of a model.
    first, second, third = (texts[n::3] for n in range(3))
    figures = {
        "classify_posts_per_s": posts_per_second(full, first),
        "sentiment_posts_per_s": posts_per_second(scorer.sentiment.predict_proba, second),
        "offensive_posts_per_s": posts_per_second(scorer.offensive.predict_proba, third),
        "classify_peak_rss_mb": peak_rss_mb,
        **startup,
        **bench_queue.figures(),
    }
    bert_texts = texts[:BERT_POSTS]
    variants = ["fp32", "int8"] + (["bf16"] if bf16_is_fast() else [])
    for variant in variants:
        bert = bert_base_posts_per_second(bert_texts, variant)
        figures[f"bert_base_{variant}_posts_per_s"] = bert
        figures[f"speedup_vs_bert_base_{variant}"] = figures["classify_posts_per_s"] / bert
    table = Table("measure", "value", title=f"{len(texts)} German posts, {THREADS} threads")
    for name, value in figures.items():
        table.add_row(name, f"{value:,.{decimals(name)}f}")
    Console().print(table)
    print(json.dumps({k: round(v, decimals(k)) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
