"""The `rufwacht` command line: thin wrappers around the monitor's operations."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from classifiers.base import TASK_LABELS, ModelLoadError
from connectors.base import SourceError
from monitor.settings import DEFAULT_CONFIG_NAME, ConfigError, Settings, example_config_text
from monitor.settings import load_settings as _load_settings
from monitor.storage import StorageError

# Only what every command needs is imported here: each command imports its own operations,
# so that `--help` or `queue list` does not wait for torch, the platform clients or Alembic.
if TYPE_CHECKING:
    from monitor.pipeline import Pipeline
    from monitor.sources import SourcePlan
    from monitor.storage.database import Database

app = typer.Typer(
    help="Rufwacht: reputation monitoring for German-speaking brands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
queue_app = typer.Typer(help="Work with the escalation queue.", no_args_is_help=True)
models_app = typer.Typer(help="Inspect the installed classifier models.", no_args_is_help=True)
app.add_typer(queue_app, name="queue")
app.add_typer(models_app, name="models")

out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help=f"Config file (default: $RUFWACHT_CONFIG, else ./{DEFAULT_CONFIG_NAME}, "
        "else the embedded defaults).",
        dir_okay=False,
    ),
]


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn problems the user can fix into one clear line and exit code 2."""
    try:
        yield
    except (ConfigError, StorageError, ModelLoadError, SourceError, ValueError, OSError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc


def setup_logging(verbose: bool = False) -> None:
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False)],
    )
    for noisy in ("apscheduler", "urllib3", "prawcore", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def open_database(settings: Settings) -> Database:
    from monitor.storage.database import Database

    db = Database(settings.storage.url)
    db.migrate()
    return db


def start_sources(config: Path | None, verbose: bool) -> tuple[Pipeline, SourcePlan]:
    """What `run` and `poll` share: logging, settings, database, sources and models."""
    from monitor.pipeline import Pipeline
    from monitor.sources import plan_sources

    setup_logging(verbose)
    with user_errors():
        settings = _load_settings(config)
        plan = plan_sources(settings, os.environ)
        return Pipeline.from_settings(settings, open_database(settings)), plan


@app.command()
def init(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Where to write the example config.")
    ] = Path(DEFAULT_CONFIG_NAME),
    force: Annotated[bool, typer.Option(help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented example config and create the database."""
    with user_errors():
        if config.exists() and not force:
            raise ConfigError(f"{config}: already exists (use --force to overwrite)")
        config.write_text(example_config_text(), encoding="utf-8")
        settings = _load_settings(config)
        open_database(settings).dispose()
    out.print(f"Wrote {config} and prepared {settings.storage.url}.")


@app.command()
def run(config: ConfigOption = None, verbose: bool = False) -> None:
    """Poll every enabled source on its schedule until Ctrl-C."""
    from monitor.scheduler import run_scheduler

    pipeline, plan = start_sources(config, verbose)
    db = pipeline.db
    if not plan.connectors:
        err.print("[bold red]error:[/] no source can run; enable one in the config.")
        raise typer.Exit(2)
    logging.getLogger("rufwacht").info(
        "running %s into %s; Ctrl-C stops",
        ", ".join(f"{job} every {m:g} min" for job, m in plan.schedule.items()),
        db.engine.url.render_as_string(hide_password=True),
    )
    run_scheduler(pipeline, plan.connectors, plan.schedule)
    db.dispose()


@app.command()
def poll(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every source once and exit.")] = False,
    verbose: bool = False,
) -> None:
    """Poll the enabled sources (with --once: one round, then a summary)."""
    if not once:
        run(config, verbose)
        return
    pipeline, plan = start_sources(config, verbose)
    table = Table("source", "fetched", "new", "flagged", "problems")
    failed = False
    for name, problem in plan.unavailable.items():
        table.add_row(name, "-", "-", "-", f"not running: {problem}")
    for connector in plan.connectors:
        report = pipeline.poll(connector)
        failed |= report.failure is not None
        problems = [report.failure] if report.failure else []
        problems += [f"{len(report.errors)} bad posts skipped"] if report.errors else []
        table.add_row(
            report.source,
            str(report.fetched),
            str(report.stored),
            str(report.flagged),
            "; ".join(problems),
        )
    out.print(table)
    pipeline.db.dispose()
    if failed:
        raise typer.Exit(1)


@app.command()
def classify(config: ConfigOption = None) -> None:
    """Read JSONL posts on stdin, write each with its judgements as JSON on stdout."""
    from monitor.classify import classify_lines
    from monitor.matching import Matcher
    from monitor.scoring import Scorer

    with user_errors():
        settings = _load_settings(config)
        matcher = Matcher(settings.brands, settings.keywords.negative)
        scorer = Scorer.from_settings(settings)
    for result in classify_lines(sys.stdin, matcher, scorer, settings.flagging):
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


@app.command(name="eval")
def evaluate_command(
    task: Annotated[str, typer.Option(help="sentiment, offensive or troll")],
    data: Annotated[
        Path,
        typer.Option(
            help="Labelled TSV file (text, label columns); for troll a JSONL file of cases "
            "(text, author, history, label troll/not_troll, threat), e.g. "
            "tests/data/troll_cases.jsonl."
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            help="Model spec (default: the one the config chooses; for troll, the offensive "
            "model the troll score builds on)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Measure a classifier on labelled data and print the figures as JSON."""
    from classifiers.evaluation import (
        evaluate,
        evaluate_trolls,
        read_labelled_tsv,
        read_troll_cases,
    )
    from classifiers.registry import load_classifier
    from classifiers.troll import TrollScorer

    with user_errors():
        if task not in (*TASK_LABELS, "troll"):
            raise ValueError(f"--task must be one of {', '.join(TASK_LABELS)}, troll, not {task!r}")
        settings = _load_settings(config)
        if task == "troll":
            offensive = load_classifier(model or settings.classifiers.offensive, "offensive")
            scorer = TrollScorer(offensive, threshold=settings.flagging.troll_threshold)
            figures = evaluate_trolls(scorer, read_troll_cases(data))
            version = scorer.model_version
        else:
            classifier = load_classifier(model or getattr(settings.classifiers, task), task)
            figures = evaluate(classifier, *read_labelled_tsv(data, task))
            version = classifier.model_version
    result = {"task": task, "data": str(data), "model_version": version, **figures}
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


@queue_app.command("list")
def queue_list(
    status: Annotated[str | None, typer.Option(help="Only items with this status.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per item.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many items.")] = 50,
    config: ConfigOption = None,
) -> None:
    """Show queue items, most urgent first."""
    from monitor.queue import item_summary, list_items

    with user_errors():
        settings = _load_settings(config)
        db = open_database(settings)
        with db.transaction() as session:
            items = [item_summary(item) for item in list_items(session, status)[:limit]]
    if as_json:
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    table = Table(box=None, pad_edge=False)
    for column, width in (("id", 4), ("prio", 4), ("brand", 13), ("due", 11)):
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("why", no_wrap=True, overflow="ellipsis", max_width=20)
    # Bounded, or rich drops whole columns to fit a long unwrapped text.
    table.add_column("text", no_wrap=True, overflow="ellipsis", max_width=max(16, out.width - 62))
    for item in items:
        table.add_row(
            str(item["id"]),
            str(item["priority"]),
            str(item["brand"]),
            str(item["due_at"])[5:16].replace("T", " "),
            "; ".join(item["reasons"]),  # type: ignore[arg-type]
            escape(str(item["text"] or "(gelöscht)")),
        )
    out.print(table)


@models_app.command("list")
def models_list() -> None:
    """Show the bundled models with their versions and model-card figures."""
    from classifiers.registry import list_models

    table = Table("name", "task", "model_version", "eval figures")
    for info in list_models():
        figures = "; ".join(
            f"{name}: micro-F1 {f['micro_f1']:.3f}, macro-F1 {f['macro_f1']:.3f}"
            for name, f in info.eval.items()
        )
        table.add_row(info.name, info.task, info.model_version, figures)
    out.print(table)


@app.command()
def demo(
    config: ConfigOption = None,
    reset: Annotated[bool, typer.Option(help="Empty the database first.")] = False,
) -> None:
    """Run the bundled German demo feed through the pipeline and summarise the queue."""
    from monitor.demo import run_demo
    from monitor.pipeline import Pipeline

    setup_logging()
    with user_errors():
        settings = _load_settings(config)
        db = open_database(settings)
        summary = run_demo(Pipeline.from_settings(settings, db), reset=reset)
    report = summary.report
    out.print(
        f"Demo feed: {report.fetched} posts read, {report.stored} new, "
        f"{report.flagged} queued; {summary.posts_total} posts stored in all."
    )
    table = Table("brand", "queue items")
    for brand, count in summary.queue_by_brand.items():
        table.add_row(brand, str(count))
    out.print(table)
    db.dispose()
