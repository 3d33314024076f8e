"""The `rufwacht` command line: thin wrappers around the monitor's operations."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from classifiers.base import TASK_LABELS, ModelLoadError
from connectors.base import SourceError
from monitor.logs import LogFormat, protect_settings, redact, setup_logging
from monitor.queue import QueueStatus
from monitor.settings import (
    DEFAULT_CONFIG_NAME,
    ConfigError,
    Settings,
    example_config_text,
    load_settings,
)
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
quarantine_app = typer.Typer(
    help="Fetched items that could not be stored: look at them, retry them after a fix.",
    no_args_is_help=True,
)
app.add_typer(queue_app, name="queue")
app.add_typer(models_app, name="models")
app.add_typer(quarantine_app, name="quarantine")

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
        err.print(
            f"[bold red]error:[/] {escape(redact(str(exc)))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from exc


@app.callback()
def main(
    log_format: Annotated[
        LogFormat,
        typer.Option(
            envvar="RUFWACHT_LOG_FORMAT",
            help="Logs on stderr as text, or as one JSON object per line; secrets are redacted.",
        ),
    ] = LogFormat.text,
) -> None:
    """Install the redacting log handler before any command can log."""
    setup_logging(log_format)


def _load_settings(config: Path | None) -> Settings:
    """The config, its credentials registered for redaction before anything can log them."""
    settings = load_settings(config)
    protect_settings(settings, os.environ)
    return settings


def open_database(settings: Settings) -> Database:
    from monitor.storage.database import Database

    db = Database(settings.storage.url)
    db.migrate()
    return db


def start_sources(config: Path | None, verbose: bool) -> tuple[Pipeline, SourcePlan]:
    """What `run` and `poll` share: log level, settings, database, sources and models."""
    from monitor.pipeline import Pipeline
    from monitor.sources import plan_sources

    if verbose:
        logging.getLogger().setLevel(logging.DEBUG)
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
        db = open_database(settings)
    out.print(f"Wrote {config}; database: {db.location}", soft_wrap=True, highlight=False)
    db.dispose()


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
        db.location,
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
        if report.quarantined:
            problems.append(f"{report.quarantined} quarantined (see `rufwacht quarantine list`)")
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
    task: Annotated[str, typer.Option(help="sentiment, offensive, troll, spam or triage")],
    data: Annotated[
        Path,
        typer.Option(
            help="Labelled TSV file (text, label columns); for troll a JSONL file of cases "
            "(text, author, history, label troll/not_troll, threat), e.g. "
            "tests/data/troll_cases.jsonl; for spam a JSONL file of posts (text, author, label "
            "spam/not_spam); for triage a JSONL file of posts (text, author, history, category, "
            "action, escalate_to)."
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            help="Model spec (default: the one the config chooses; for troll, the offensive "
            "model the troll score builds on; for triage, a triage model directory)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Measure a classifier on labelled data and print the figures as JSON."""
    from classifiers.evaluation import (
        evaluate,
        evaluate_spam,
        evaluate_trolls,
        read_labelled_tsv,
        read_spam_cases,
        read_troll_cases,
    )
    from classifiers.registry import load_classifier
    from classifiers.spam import SPAM_RULES_VERSION
    from classifiers.troll import TrollScorer

    with user_errors():
        if task not in (*TASK_LABELS, "troll", "spam", "triage"):
            raise ValueError(
                f"--task must be one of {', '.join(TASK_LABELS)}, troll, spam, triage, not {task!r}"
            )
        settings = _load_settings(config)
        if task == "triage":
            figures, version = evaluate_triage_file(settings, data, model)
        elif task == "spam":  # rules only: --model does not apply
            figures, version = evaluate_spam(read_spam_cases(data)), SPAM_RULES_VERSION
        elif task == "troll":
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


def evaluate_triage_file(
    settings: Settings, data: Path, model: str | None
) -> tuple[dict[str, Any], str]:
    """Triage figures on a labelled file, with the signals computed as the pipeline does."""
    from classifiers.evaluation import evaluate_triage, read_triage_cases
    from classifiers.triage import BUNDLED_DIR, TriageModel
    from monitor.scoring import Scorer

    cases = read_triage_cases(data)
    triage = TriageModel.load(Path(model) if model else BUNDLED_DIR)
    signals = Scorer.from_settings(settings).triage_signals(
        [c.text for c in cases], [c.author for c in cases], [c.history for c in cases]
    )
    return evaluate_triage(cases, triage.triage(signals)), triage.model_version


TABLE_LIMIT = 50
"""Items `queue list` shows in its table unless `--limit` says otherwise."""


@queue_app.command("list")
def queue_list(
    status: Annotated[QueueStatus | None, typer.Option(help="Only items with this status.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per item.")] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, help=f"At most this many items [default: {TABLE_LIMIT}; all with --json]."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Show queue items, most urgent first (highest priority, then earliest due)."""
    from monitor.queue import count_items, item_summary, list_items

    limit = limit or (None if as_json else TABLE_LIMIT)
    with user_errors():
        settings = _load_settings(config)
        db = open_database(settings)
        with db.transaction() as session:
            items = [item_summary(item) for item in list_items(session, status, limit)]
            left_out = count_items(session, status) - len(items)
        db.dispose()
    if as_json:
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    else:
        print_queue_table(items)
    if left_out:
        err.print(f"{left_out} more items not shown (--limit N shows more)", highlight=False)


def print_queue_table(items: list[dict[str, object]]) -> None:
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


@quarantine_app.command("list")
def quarantine_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per item.")] = False,
    config: ConfigOption = None,
) -> None:
    """Show the quarantined items, oldest first, with source, place and problem."""
    from monitor.quarantine import list_quarantined, quarantine_summary

    with user_errors():
        db = open_database(_load_settings(config))
        with db.transaction() as session:
            items = [quarantine_summary(item) for item in list_quarantined(session)]
        db.dispose()
    if as_json:
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "since", "tries", "source", "where"):
        table.add_column(column, no_wrap=True)
    table.add_column("problem")
    for item in items:
        table.add_row(
            str(item["id"]),
            str(item["created_at"])[:16].replace("T", " "),
            str(item["attempts"]),
            escape(str(item["source"])),
            escape(str(item["ref"])),
            escape(str(item["problem"])),
        )
    out.print(table if items else "The quarantine is empty.")


@quarantine_app.command("retry")
def quarantine_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Items to retry (default: all).", show_default=False)
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Read quarantined items again and store those that now pass (exit 1 if any still fail)."""
    from monitor.pipeline import Pipeline
    from monitor.quarantine import list_quarantined

    with user_errors():
        settings = _load_settings(config)
        db = open_database(settings)
        with db.transaction() as session:
            unknown = sorted(
                set(ids or ()) - {item.id for item in list_quarantined(session, ids or ())}
            )
        if unknown:
            raise ValueError(f"no quarantined item with id {', '.join(map(str, unknown))}")
        outcomes = Pipeline.from_settings(settings, db).retry_quarantined(ids or ())
        db.dispose()
    for outcome in outcomes:
        verdict = "stored" if outcome.stored else f"still failing: {outcome.problem}"
        out.print(f"{outcome.id} {escape(outcome.ref)}: {escape(verdict)}", highlight=False)
    stored = sum(outcome.stored for outcome in outcomes)
    out.print(f"{stored} of {len(outcomes)} stored.")
    if stored < len(outcomes):
        raise typer.Exit(1)


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
    reset: Annotated[
        bool,
        typer.Option(help="Remove earlier demo data first; live posts and other sources stay."),
    ] = False,
) -> None:
    """Run the bundled German demo feed through the pipeline and summarise the queue."""
    from monitor.demo import run_demo
    from monitor.pipeline import Pipeline

    with user_errors():
        settings = _load_settings(config)
        db = open_database(settings)
        summary = run_demo(Pipeline.from_settings(settings, db), reset=reset)
    report = summary.report
    if reset:
        out.print(f"Removed {summary.removed} earlier demo posts.")
    out.print(
        f"Demo feed: {report.fetched} posts read, {report.stored} new, "
        f"{report.flagged} queued; {summary.posts_total} posts stored in all."
    )
    table = Table("brand", "queue items")
    for brand, count in summary.queue_by_brand.items():
        table.add_row(brand, str(count))
    out.print(table)
    db.dispose()
