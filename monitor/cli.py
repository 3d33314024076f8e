"""The `rufwacht` command line: thin wrappers around the monitor's operations."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from classifiers.base import TASK_LABELS, ModelLoadError
from connectors.base import SourceError
from monitor.logs import LogFormat, redact, setup_logging
from monitor.queue.priority import Band, Sort
from monitor.queue.sla import SlaState
from monitor.queue.states import QueueStatus
from monitor.runtime import Runtime
from monitor.settings import DEFAULT_CONFIG_NAME, ConfigError, example_config_text
from monitor.storage import StorageError

# Only what every command needs is imported here: each command imports its own operations,
# so that `--help` or `queue list` does not wait for torch, the platform clients or Alembic.
if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.orm import Session

    from monitor.sources import SourcePlan
    from monitor.storage.database import Database

app = typer.Typer(
    help="Rufwacht: reputation monitoring for German-speaking brands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
queue_app = typer.Typer(help="Work with the escalation queue.", no_args_is_help=True)
models_app = typer.Typer(
    help="The model registry: versions, champions, promotion and rollback.", no_args_is_help=True
)
labels_app = typer.Typer(help="Reviewer decisions as training data.", no_args_is_help=True)
quarantine_app = typer.Typer(
    help="Fetched items that could not be stored: look at them, retry them after a fix.",
    no_args_is_help=True,
)
app.add_typer(queue_app, name="queue")
app.add_typer(models_app, name="models")
app.add_typer(labels_app, name="labels")
app.add_typer(quarantine_app, name="quarantine")

out = Console()
err = Console(stderr=True)
log = logging.getLogger("rufwacht")

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
    # RegistryError and PseudonymError are ValueErrors
    except (ConfigError, StorageError, ModelLoadError, SourceError, ValueError, OSError) as exc:
        err.print(
            f"[bold red]error:[/] {escape(redact(str(exc)))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from exc


@contextmanager
def database_session(config: Path | None) -> Iterator[Session]:
    """One transaction on the configured database; problems the user can fix exit 2."""
    with user_errors(), Runtime.open(config) as runtime, runtime.database.transaction() as session:
        yield session


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


def start_sources(config: Path | None, verbose: bool) -> tuple[Runtime, SourcePlan]:
    """What `run` and `poll` share: log level, then the runtime with its sources and pipeline."""
    if verbose:
        logging.getLogger().setLevel(logging.DEBUG)
    with user_errors():
        runtime = Runtime.open(config)
        plan = runtime.source_plan()
        runtime.pipeline  # noqa: B018  # loads the models before anything starts
        return runtime, plan


HostOption = Annotated[str, typer.Option(help="Address the web UI and API listen on.")]
PortOption = Annotated[
    int,
    typer.Option(
        min=0, max=65535, envvar="RUFWACHT_WEB_PORT", help="Port of the web UI (0: a free one)."
    ),
]
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


@contextmanager
def serving(runtime: Runtime, host: str, port: int) -> Iterator[None]:
    """The web UI and API served in a background thread for the `with` block."""
    from monitor.web.app import create_app
    from monitor.web.server import WebServer

    with user_errors():
        runtime.database  # noqa: B018  # migrated before the first request
        server = WebServer(create_app(runtime), host, port).start()
    # a log record, not a print: with `--log-format json` a running server writes only JSON
    log.info(
        "Web UI at %s/ (API: %s/api/v1, OpenAPI: %s/api/v1/openapi.json); Ctrl-C stops.",
        *(server.url,) * 3,
    )
    try:
        yield
    finally:
        server.stop()


def poll_forever(config: Path | None, verbose: bool, web: tuple[str, int] | None) -> None:
    """Poll every source on its schedule (and serve the web app at `web`) until Ctrl-C."""
    from monitor.scheduler import scheduling, stop_signals

    runtime, plan = start_sources(config, verbose)
    if not plan.connectors:
        err.print("[bold red]error:[/] no source can run; enable one in the config.")
        raise typer.Exit(2)
    logging.getLogger("rufwacht").info(
        "running %s into %s; Ctrl-C stops",
        ", ".join(f"{job} every {m:g} min" for job, m in plan.schedule.items()),
        runtime.database.location,
    )
    with stop_signals("stopping after the current page") as stop, ExitStack() as stack:
        stack.enter_context(
            scheduling(
                runtime.pipeline,
                plan.connectors,
                plan.schedule,
                runtime.settings.workflow,
                runtime.settings,
                runtime.alert_outbox(),
            )
        )
        if web is not None:
            stack.enter_context(serving(runtime, *web))
        stop.wait()
    runtime.close()


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
        with Runtime.open(config) as runtime:
            location = runtime.database.location
            seeded = _seed_replies(runtime.database)
    out.print(f"Wrote {config}; database: {location}", soft_wrap=True, highlight=False)
    if seeded:
        out.print(f"Stored {seeded} shipped saved replies.")


@app.command()
def run(
    config: ConfigOption = None,
    verbose: bool = False,
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
) -> None:
    """Poll every enabled source on its schedule and serve the web UI, until Ctrl-C."""
    poll_forever(config, verbose, (host, port))


@app.command()
def serve(
    config: ConfigOption = None, host: HostOption = DEFAULT_HOST, port: PortOption = DEFAULT_PORT
) -> None:
    """Serve the web UI and the REST API (/api/v1) until Ctrl-C, without polling."""
    from monitor.scheduler import stop_signals

    with user_errors():
        runtime = Runtime.open(config)
    with stop_signals("stopping the web server") as stop, serving(runtime, host, port):
        stop.wait()
    runtime.close()


@app.command()
def poll(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every source once and exit.")] = False,
    verbose: bool = False,
) -> None:
    """Poll the enabled sources (with --once: one round, then a summary)."""
    if not once:
        poll_forever(config, verbose, web=None)
        return
    runtime, plan = start_sources(config, verbose)
    pipeline = runtime.pipeline
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

    with user_errors():
        judge = Runtime.open(config).judge
    for result in classify_lines(sys.stdin, judge):
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
    from monitor.scoring import Scorer

    with user_errors():
        if task not in (*TASK_LABELS, "troll", "spam", "triage"):
            raise ValueError(
                f"--task must be one of {', '.join(TASK_LABELS)}, troll, spam, triage, not {task!r}"
            )
        runtime = Runtime.open(config)
        settings, serving = runtime.settings, runtime.serving
        if task == "triage":
            figures, version = Scorer.from_settings(settings, serving).evaluate_triage(data, model)
        elif task == "spam":  # rules only: --model does not apply
            figures, version = evaluate_spam(read_spam_cases(data)), SPAM_RULES_VERSION
        elif task == "troll":
            offensive = load_classifier(model or serving.spec("offensive"), "offensive")
            scorer = TrollScorer(offensive, threshold=settings.flagging.troll_threshold)
            figures = evaluate_trolls(scorer, read_troll_cases(data))
            version = scorer.model_version
        else:
            classifier = load_classifier(model or serving.spec(task), task)
            figures = evaluate(classifier, *read_labelled_tsv(data, task))
            version = classifier.model_version
    result = {"task": task, "data": str(data), "model_version": version, **figures}
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


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
    offset: Annotated[int, typer.Option(min=0, help="Skip this many items (the next page).")] = 0,
    brand: Annotated[str | None, typer.Option(help="Only items for this brand.")] = None,
    platform: Annotated[str | None, typer.Option(help="Only posts from this platform.")] = None,
    category: Annotated[
        str | None, typer.Option(help="Only this triage category (complaint, threat, ...).")
    ] = None,
    action: Annotated[str | None, typer.Option(help="Only this triage action.")] = None,
    band: Annotated[Band | None, typer.Option(help="Only this priority band.")] = None,
    sla: Annotated[SlaState | None, typer.Option(help="Only items in this SLA state.")] = None,
    recheck: Annotated[
        bool,
        typer.Option(help="Only items a rescore marked: the champion would not queue them now."),
    ] = False,
    sort: Annotated[
        Sort, typer.Option(help="urgent: highest priority first; waiting: longest waiting first.")
    ] = Sort.URGENT,
    config: ConfigOption = None,
) -> None:
    """Show queue items, most urgent first (highest priority, then earliest due)."""
    from monitor.queue import QueueFilter, count_items, item_summary, list_items

    limit = limit or (None if as_json else TABLE_LIMIT)
    query = QueueFilter(
        brand,
        platform,
        status,
        category,
        action,
        band=band,
        sla=sla,
        recheck="unflagged" if recheck else None,
        sort=sort,
    )
    with database_session(config) as session:
        listed = list_items(session, query, limit, offset)
        items = [item_summary(item, query.now) for item in listed]
        left_out = count_items(session, query) - offset - len(items)
    if as_json:
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    else:
        print_queue_table(items)
    if left_out > 0:
        err.print(
            f"{left_out} more items not shown (--limit N shows more, --offset N skips)",
            highlight=False,
        )


def print_queue_table(items: list[dict[str, object]]) -> None:
    table = Table(box=None, pad_edge=False)
    for column, width in (("id", 4), ("prio", 4), ("brand", 13), ("due", 11), ("sla", 7)):
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("why", no_wrap=True, overflow="ellipsis", max_width=20)
    # Bounded, or rich drops whole columns to fit a long unwrapped text.
    table.add_column("text", no_wrap=True, overflow="ellipsis", max_width=max(16, out.width - 70))
    for item in items:
        table.add_row(
            str(item["id"]),
            str(item["priority"]),
            str(item["brand"]),
            str(item["due_at"])[5:16].replace("T", " "),
            str(item["sla"]),
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

    with database_session(config) as session:
        items = [quarantine_summary(item) for item in list_quarantined(session)]
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
    from monitor.quarantine import list_quarantined

    with user_errors(), Runtime.open(config) as runtime:
        with runtime.database.transaction() as session:
            unknown = sorted(
                set(ids or ()) - {item.id for item in list_quarantined(session, ids or ())}
            )
        if unknown:
            raise ValueError(f"no quarantined item with id {', '.join(map(str, unknown))}")
        outcomes = runtime.pipeline.retry_quarantined(ids or ())
    for outcome in outcomes:
        verdict = "stored" if outcome.stored else f"still failing: {outcome.problem}"
        out.print(f"{outcome.id} {escape(outcome.ref)}: {escape(verdict)}", highlight=False)
    stored = sum(outcome.stored for outcome in outcomes)
    out.print(f"{stored} of {len(outcomes)} stored.")
    if stored < len(outcomes):
        raise typer.Exit(1)


@models_app.command("list")
def models_list(config: ConfigOption = None) -> None:
    """Show the model versions in the registry: tasks, aliases, held-out figures."""
    from classifiers.model_registry import TASKS as MODEL_TASKS
    from classifiers.registry import bundled_models

    with user_errors():
        runtime = Runtime.open(config)
        registry, serving = runtime.serving.registry, runtime.serving
        scan = registry.scan()
        aliases = {task: registry.aliases(task) for task in MODEL_TASKS}
    names: dict[str, list[str]] = {}
    for name, (directory, _task) in bundled_models().items():
        names.setdefault(directory.name, []).append(name)
    for version in sorted(scan.versions.values(), key=lambda v: v.name):
        origin = (
            "bundled: " + ", ".join(names.get(version.bundled, [version.bundled]))
            if version.bundled
            else f"registered {version.card.get('date', '')}, parent {version.card.get('parent')}"
        )
        out.print(f"[bold]{version.name}[/]  ({escape(origin)})", highlight=False, soft_wrap=True)
        for task in version.tasks:
            serves = [
                alias
                for alias in ("champion", "challenger")
                if getattr(aliases[task], alias) == version.name
            ]
            out.print(f"  {task}" + (f"  [green]{', '.join(serves)}[/]" if serves else ""))
            for dataset, values in version.metrics(task).items():
                line = f"    {dataset}: {_figures(values)}"
                out.print(escape(line), highlight=False, soft_wrap=True)
    written = "" if registry.root.exists() else " (nothing promoted yet: bundled defaults)"
    out.print(f"Registry: {registry.root}{written}", highlight=False)
    for task in MODEL_TASKS:
        if not serving.follows_registry(task):
            out.print(
                f"[classifiers] {task} = {serving.configured[task]!r} pins its model: "
                'the champion serves only with "champion".',
                highlight=False,
            )
    for problem in scan.problems:
        err.print(f"[bold red]broken version:[/] {escape(problem)}", highlight=False)


def _figures(values: dict[str, object]) -> str:
    return ", ".join(
        f"{label} {values[key]:.3f}"
        for key, label in FIGURE_LABELS.items()
        if isinstance(values.get(key), int | float)
    )


TaskOption = Annotated[str, typer.Option(help="sentiment, offensive or triage.")]


@models_app.command("promote")
def models_promote(
    version: Annotated[str, typer.Argument(help="The model_version to serve.")],
    task: TaskOption,
    force: Annotated[
        bool, typer.Option(help="Promote even if worse on a held-out set (needs --reason).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why; kept in the history.")] = None,
    challenger: Annotated[
        bool, typer.Option(help="Make it the challenger instead (no figures compared).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Make a version the task's champion, unless its held-out figures are worse."""
    with user_errors():
        runtime = Runtime.open(config)
        worse = runtime.serving.registry.promote(
            version,
            task,
            runtime.settings.models.promote_tolerance,
            force=force,
            reason=reason,
            alias="challenger" if challenger else "champion",
        )
    alias = "challenger" if challenger else "champion"
    out.print(f"{version} is now the {task} {alias}.", highlight=False)
    if worse:
        out.print(
            "Forced despite: " + "; ".join(map(str, worse)) + f" (reason: {reason})",
            highlight=False,
        )


@models_app.command("rollback")
def models_rollback(
    task: TaskOption,
    reason: Annotated[str | None, typer.Option(help="Why; kept in the history.")] = None,
    config: ConfigOption = None,
) -> None:
    """Make the previous champion the task's champion again."""
    with user_errors():
        runtime = Runtime.open(config)
        replaced = runtime.serving.registry.aliases(task).champion
        restored = runtime.serving.registry.rollback(task, reason=reason)
    out.print(f"{restored} is the {task} champion again (was {replaced}).", highlight=False)


@models_app.command("history")
def models_history(
    task: Annotated[str | None, typer.Option(help="Only this task.")] = None,
    config: ConfigOption = None,
) -> None:
    """Show every registration, promotion and rollback: who, when, why."""
    with user_errors():
        entries = Runtime.open(config).serving.registry.history(task)
    for entry in entries:
        sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
    if not entries:
        err.print("No promotions or rollbacks yet.")


FIGURE_LABELS = {
    "micro_f1": "micro-F1",
    "macro_f1": "macro-F1",
    "category_macro_f1": "category macro-F1",
    "action_accuracy": "action accuracy",
    "troll_f1": "troll F1",
    "threat_recall": "threat recall",
}
"""The model-card figures `models list` shows, in this order."""


SinceOption = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="From this day (UTC) on, e.g. 2026-11-01."
    ),
]


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


@labels_app.command("export")
def labels_export(
    out_path: Annotated[
        Path, typer.Option("--out", dir_okay=False, help="The JSONL file to write.")
    ],
    since: SinceOption = None,
    task: Annotated[
        str | None,
        typer.Option(help="Only decisions for this model: sentiment, offensive, troll, triage."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the team's decisions with post text and pseudonyms as JSON lines (docs/labels.md)."""
    from monitor.labels_export import export_labels
    from monitor.pseudonyms import Pseudonymiser

    with user_errors(), Runtime.open(config) as runtime:
        salt_env = runtime.settings.labels.salt_env
        pseudonyms = Pseudonymiser.from_environment(salt_env, os.environ)
        with runtime.database.transaction() as session:
            count = export_labels(session, out_path, pseudonyms, _utc(since), task)
    if count == 0:
        out.print(f"No reviewer decisions to export: wrote an empty {out_path}.", highlight=False)
    else:
        out.print(f"Wrote {count} reviewer decisions to {out_path}.", highlight=False)


@app.command()
def rescore(
    since: Annotated[
        datetime,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
            help="Posts written from this day (UTC) on, e.g. 2026-11-01.",
        ),
    ],
    status: Annotated[
        str, typer.Option(help="open (every item not closed), all, or one queue status.")
    ] = "open",
    config: ConfigOption = None,
) -> None:
    """Judge queued posts again with the champion models and record what changed; items the
    new models would not queue are marked for a second look (queue list --recheck)."""
    from monitor.rescore import OPEN, rescore

    with user_errors(), Runtime.open(config) as runtime:
        statuses = (
            OPEN
            if status == "open"
            else frozenset(QueueStatus)
            if status == "all"
            else {QueueStatus(status)}
        )
        pipeline = runtime.pipeline
        report = rescore(runtime.database, pipeline.judge, pipeline.clock, _utc(since), statuses)
    for change in report.changes:
        before, after = change.before, change.after
        what = "NO LONGER FLAGGED, marked for review" if change.unflagged else "changed"
        out.print(
            f"item {change.item_id}: {what}: priority {before.get('priority')} → "
            f"{after['priority']}, category {_label(before.get('category'))} → "
            f"{_label(after['category'])}",
            highlight=False,
        )
    out.print(
        f"Rescored {report.checked} items: {len(report.changes)} changed, "
        f"{len(report.unflagged)} no longer flagged (marked: queue list --recheck)"
        + (f", {len(report.skipped)} skipped (changed meanwhile)" if report.skipped else "")
        + ".",
        highlight=False,
    )


def _label(value: object) -> str:
    return str(value.get("label")) if isinstance(value, dict) else "–"


@app.command()
def demo(
    config: ConfigOption = None,
    reset: Annotated[
        bool,
        typer.Option(
            help="Remove earlier demo data first (live posts and other sources stay) and give "
            "the demo accounts new passwords."
        ),
    ] = False,
) -> None:
    """Run the bundled German demo feed through the pipeline, summarise the queue, and create
    the demo accounts agent, approver and lead for the web UI."""
    from monitor.demo import run_demo

    with user_errors(), Runtime.open(config) as runtime:
        summary = run_demo(runtime.pipeline, reset=reset)
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
    print_demo_logins(summary.passwords)


def print_demo_logins(passwords: dict[str, str | None]) -> None:
    out.print("Demo accounts for the web UI (new passwords are shown only now):")
    for name, password in passwords.items():
        shown = password or "exists, password unchanged (`rufwacht demo --reset` sets a new one)"
        out.print(f"  {name:<9} {shown}", highlight=False, soft_wrap=True)
    out.print(
        f"Log in at http://{DEFAULT_HOST}:{DEFAULT_PORT}/login once `rufwacht serve` "
        "(web UI only) or `rufwacht run` (polling and web UI) is running.",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def explain(
    ref: Annotated[
        str, typer.Argument(metavar="PLATFORM:ID", help="The post, e.g. twitter:1234567890.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="The stored verdict as JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """Why a stored post is (not) in the queue, from the verdict stored when it was judged."""
    from monitor.explain import explain as explain_post
    from monitor.explain import explanation_data, find_post

    with database_session(config) as session:
        post = find_post(session, ref)
        data, sentences = explanation_data(post), explain_post(post)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(f"[bold]{escape(ref)}[/]: {escape(post.text or '(gelöscht)')}", soft_wrap=True)
    for sentence in sentences:
        out.print(escape(sentence), soft_wrap=True, highlight=False)


# --- the daily digest ------------------------------------------------------------------------


@app.command()
def digest(
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="YYYY-MM-DD",
            help="The day to report on (default: the latest one due, i.e. yesterday once "
            "the digest's send time has passed).",
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            dir_okay=False,
            help="Write the digest to this file: .html (charts embedded), .txt, or .eml "
            "(the whole mail).",
        ),
    ] = None,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="Mail it to the digest's recipients; recorded, so a day already sent is not "
            "sent again.",
        ),
    ] = False,
    brand: Annotated[str | None, typer.Option(help="Only this brand.")] = None,
    name: Annotated[
        str | None, typer.Option(help="Only the digest of this name (digest.mails in the config).")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--deliveries", help="Show the delivery record (what was sent, what failed) instead."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Write or send the daily digest: the German comms summary of one day per brand.

    Without --out or --send it prints the plain-text version."""
    if record:
        print_deliveries(config, name)
        return
    from datetime import UTC, datetime

    from monitor.digest.delivery import (
        chosen_mails,
        deliver,
        latest_due_day,
        rendered_digest,
        spike_provider,
    )
    from monitor.digest.render import compose
    from monitor.digest.sender import SmtpSender

    failed = False
    with user_errors(), Runtime.open(config) as runtime:
        settings = runtime.settings
        when = _day(day) if day else latest_due_day(settings, datetime.now(UTC))
        mails = chosen_mails(settings, name, brand)
        spikes = spike_provider(settings.web)
        if out_file is not None or not send:
            rendered = rendered_digest(runtime.database, settings, mails[0], when, spikes)
            if out_file is None:
                sys.stdout.write(rendered.text)
            elif out_file.suffix.lower() == ".eml":
                message = compose(rendered, settings.digest.sender, mails[0].recipients)
                out_file.write_bytes(message.as_bytes())
            else:
                html = out_file.suffix.lower() in (".html", ".htm")
                out_file.write_text(rendered.standalone_html() if html else rendered.text, "utf-8")
            if out_file is not None:
                err.print(f"Wrote the digest for {when} to {out_file}.", highlight=False)
        for mail in mails if send else []:
            if not mail.recipients:
                raise ValueError(
                    f"digest {mail.name!r} has no recipients: set [digest] recipients or "
                    "the digest's own"
                )
            outcome = deliver(
                runtime.database, settings, mail, when, SmtpSender(settings.digest), spikes=spikes
            )
            if outcome is None:
                err.print(f"Digest {mail.name} for {when} was sent already; not sent again.")
            elif outcome.error:
                failed = True
                err.print(
                    f"[bold red]error:[/] digest {mail.name} for {when}: {escape(outcome.error)}"
                )
            else:
                err.print(f"Sent digest {mail.name} for {when} to {', '.join(mail.recipients)}.")
    if failed:
        raise typer.Exit(1)


def print_deliveries(config: Path | None, name: str | None) -> None:
    from zoneinfo import ZoneInfo

    from monitor.digest.delivery import deliveries

    with user_errors(), Runtime.open(config) as runtime:
        rows = deliveries(runtime.database, name)
        zone = runtime.settings.digest.timezone
    table = Table("digest", "day", "status", "attempts", "sent at (UTC)", "last error")
    for row in rows:
        day = row.period_start.astimezone(ZoneInfo(zone)).date().isoformat()
        sent = f"{row.sent_at:%Y-%m-%d %H:%M}" if row.sent_at else ""
        table.add_row(
            row.name, day, row.status, str(row.attempts), sent, escape(row.last_error or "")
        )
    out.print(table)


def _day(text: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--date {text!r} is not a day (YYYY-MM-DD)") from None


# --- guidance: playbooks, saved replies and the draft checker ---------------------------------

guidelines_app = typer.Typer(help="Read the German playbooks per category.", no_args_is_help=True)
replies_app = typer.Typer(
    help="Saved reply templates per category and brand.", no_args_is_help=True
)
app.add_typer(guidelines_app, name="guidelines")
app.add_typer(replies_app, name="replies")

CategoryArgument = Annotated[
    str, typer.Argument(help="complaint, question, troll, threat, crisis or praise.")
]


def _seed_replies(db: Database) -> int:
    from monitor.guidance.replies import seed_shipped_replies

    with db.transaction() as session:
        return seed_shipped_replies(session)


@guidelines_app.command("list")
def guidelines_list() -> None:
    """Show every category's playbook with its goal and whether to answer."""
    from monitor.guidance.playbooks import PLAYBOOKS, REPLY_POLICY_TEXT

    table = Table("category", "playbook", "goal", "answer")
    for playbook in PLAYBOOKS.values():
        table.add_row(
            playbook.category, playbook.title, playbook.goal, REPLY_POLICY_TEXT[playbook.reply]
        )
    out.print(table)


@guidelines_app.command("show")
def guidelines_show(category: CategoryArgument) -> None:
    """Print one playbook: goal, steps, do and don't (with rule ids), escalation."""
    from monitor.guidance.playbooks import REPLY_POLICY_TEXT, playbook_for

    with user_errors():
        playbook = playbook_for(category)
    lines = [f"[bold]{playbook.title}[/] ({playbook.category})", "", f"Ziel: {playbook.goal}"]
    lines.append(f"Antwort: {REPLY_POLICY_TEXT[playbook.reply]}")
    lines += ["", "Schritte:", *(f"  {n}. {step}" for n, step in enumerate(playbook.steps, 1))]
    lines += ["", "Tun:", *(f"  - {rule.do} \\[{rule.id}]" for rule in playbook.rules)]
    lines += [f"  - {text}" for text in playbook.extra_do]
    lines += ["", "Lassen:"]
    lines += [f"  - {rule.dont} \\[{rule.id}]" for rule in playbook.rules if rule.dont]
    lines += [f"  - {text}" for text in playbook.extra_dont]
    if playbook.escalation:
        lines += ["", f"Eskalieren, wenn: {playbook.escalation.when}"]
        lines.append(f"An: {playbook.escalation.to}")
    out.print("\n".join(lines), highlight=False)


@replies_app.command("list")
def replies_list(
    brand: Annotated[
        str | None, typer.Option(help="Only replies for this brand (or all brands), in its tone.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only replies for this category.")] = None,
    config: ConfigOption = None,
) -> None:
    """Show the saved replies with id, brand, category, tone, title and text."""
    from monitor.guidance.item import brand_tone
    from monitor.guidance.playbooks import playbook_for
    from monitor.guidance.replies import list_replies

    with user_errors(), Runtime.open(config) as runtime:
        settings = runtime.settings
        known = [b.name for b in settings.brands]
        if brand is not None and brand not in known:
            raise ValueError(f"unknown brand {brand!r}; configured: {', '.join(known) or 'none'}")
        tone = brand_tone(brand, settings.brands) if brand else None
        chosen = playbook_for(category).category if category else None
        with runtime.database.transaction() as session:
            rows = [
                (str(r.id), r.brand or "alle", r.category, r.tone, r.title, r.body)
                for r in list_replies(session, brand, chosen, tone)
            ]
    table = Table("id", "brand", "category", "tone", "title", "text")
    for row in rows:
        table.add_row(*map(escape, row))
    out.print(table if rows else "No saved replies match.")


@replies_app.command("seed")
def replies_seed(config: ConfigOption = None) -> None:
    """Store the shipped saved replies in a database that has none (as `init` does)."""
    with user_errors(), Runtime.open(config) as runtime:
        seeded = _seed_replies(runtime.database)
    out.print(
        f"Stored {seeded} shipped saved replies." if seeded else "Saved replies exist; none added."
    )


@app.command("check-reply")
def check_reply_command(
    item: Annotated[int, typer.Option(help="The queue item the draft answers.")],
    text: Annotated[str, typer.Option(help="The reply draft.")],
    template: Annotated[
        int | None, typer.Option(help="Id of the saved reply the draft started from.")
    ] = None,
    max_chars: Annotated[
        int | None, typer.Option(min=1, help="Length limit instead of the platform's.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Findings as one JSON object.")] = False,
    config: ConfigOption = None,
) -> None:
    """Check a reply draft against the playbook rules (exit 1 if a finding blocks it)."""
    from classifiers.registry import load_classifier
    from monitor.guidance.checker import Severity, blocks, check_reply
    from monitor.guidance.item import item_guidance
    from monitor.storage.models import QueueItem, SavedReply

    with user_errors(), Runtime.open(config) as runtime:
        settings = runtime.settings
        with runtime.database.transaction() as session:
            queued = session.get(QueueItem, item)
            if queued is None:
                raise ValueError(f"no queue item with id {item}")
            saved = session.get(SavedReply, template) if template is not None else None
            if template is not None and saved is None:
                raise ValueError(f"no saved reply with id {template}")
            guidance = item_guidance(
                session, queued, settings.brands, saved.body if saved else None, max_chars
            )
        offensive = load_classifier(runtime.serving.spec("offensive"), "offensive")
    findings = check_reply(text, guidance.context, offensive)
    if guidance.category_assumed:
        err.print(
            f"Item {item} has no triage category yet: checked as a complaint.", highlight=False
        )
    if as_json:
        payload = {"findings": [finding.as_dict() for finding in findings]}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        replies = ", ".join(f"#{r.id} {r.title}" for r in guidance.replies) or "keine"
        out.print(
            f"Playbook: {guidance.playbook.title} · Textbausteine: {escape(replies)}",
            highlight=False,
        )
        for f in findings:
            label = "BLOCKIERT" if f.severity is Severity.BLOCK else "WARNUNG"
            out.print(
                f"{label} \\[{f.rule}] {f.start}–{f.end}: {escape(f.message)}", highlight=False
            )
        if not findings:
            out.print("Keine Einwände. Vor dem Senden liest eine zweite Person gegen.")
    if blocks(findings):
        raise typer.Exit(1)


# --- users: accounts for the web UI and the API ------------------------------------------------

users_app = typer.Typer(help="Team accounts for the web UI and the API.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name (lower case).")],
    role: Annotated[str, typer.Option(help="agent, approver, lead or admin.")],
    password_env: Annotated[
        str, typer.Option(help="Environment variable holding the password (never an argument).")
    ],
    brands: Annotated[
        str | None, typer.Option(help="Comma-separated brands the user may see (default: all).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create a user; the password is read from an environment variable, never the command line."""
    from monitor.access.users import add_user

    password = os.environ.get(password_env)
    with database_session(config) as session:
        if password is None:
            raise ValueError(f"environment variable {password_env} is not set")
        scope = brands.split(",") if brands is not None else None
        user = add_user(session, name, role, password, scope)
        shown = ", ".join(user.brands) if user.brands is not None else "alle Marken"
        line = f"Added user {user.name} ({user.role.value}; {shown})."
    out.print(escape(line), highlight=False)


@users_app.command("token")
def users_token(
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    revoke: Annotated[
        bool, typer.Option(help="Revoke every token of the user instead of issuing one.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Print a new API bearer token (shown once, stored hashed), or revoke the user's tokens."""
    from monitor.access.users import find_user, issue_token, revoke_tokens

    with database_session(config) as session:
        user = find_user(session, name)
        if user is None:
            raise ValueError(f"no user named {name!r}")
        result = f"Revoked {revoke_tokens(session, user)} token(s)." if revoke else None
        token = None if revoke else issue_token(session, user)
    sys.stdout.write((result or token or "") + "\n")


alerts_app = typer.Typer(help="Spike and crisis alerts.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


def parse_moment(value: str | None) -> datetime:
    """An ISO time with its zone (a bare one is UTC); now when None."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO time: {value!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@alerts_app.command("run")
def alerts_run(
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Check as if it were this ISO time (e.g. 2026-11-23T14:00+01:00)."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run the hourly spike check once, then deliver the alerts' pending mails and chat
    messages."""
    from monitor.alerts.check import check_all

    moment = parse_moment(at)
    with user_errors(), Runtime.open(config) as runtime:
        report = check_all(runtime.database, runtime.settings, moment)
        delivered = runtime.alert_outbox().deliver(max(moment, datetime.now(UTC)))
    table = Table(box=None, pad_edge=False)
    for column in ("brand", "measure", "24h", "mean", "threshold", "p", "now", "spike"):
        table.add_column(column, no_wrap=True)
    for brand, tests in report.brands.items():
        for measure, test in tests.items():
            table.add_row(
                escape(brand),
                measure,
                str(test["count"]),
                f"{test['baseline']:.1f}",
                f"{test['threshold']:.1f}",
                f"{test['p_value']:.2g}",
                "yes" if test["now"] else "no",
                "[bold red]yes[/]" if test["spike"] and test["now"] else "no",
            )
    out.print(table)
    out.print(
        f"at {moment.isoformat()}: opened {len(report.opened)}, updated {len(report.updated)}, "
        f"closed {len(report.closed)}; messages sent {delivered.sent}, "
        f"failed {len(delivered.failed)}",
        highlight=False,
    )
    for problem in delivered.failed:
        err.print(f"delivery failed: {escape(problem)}", highlight=False)


@alerts_app.command("list")
def alerts_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per alert.")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="Only alerts still open.")] = False,
    brand: Annotated[str | None, typer.Option(help="Only this brand's alerts.")] = None,
    config: ConfigOption = None,
) -> None:
    """Show alerts, open ones first, then the newest."""
    from monitor.alerts.queries import alert_summary, list_alerts

    with database_session(config) as session:
        found = list_alerts(session, [brand] if brand else None, open_only, limit=10_000)
        alerts = [alert_summary(alert) for alert in found]
    if as_json:
        for alert in alerts:
            fields = ("id", "brand", "kind", "measure", "opened_at", "closed_at", "count")
            row = {key: alert[key] for key in (*fields, "baseline")}
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "brand", "kind", "opened", "closed", "count", "baseline"):
        table.add_column(column, no_wrap=True)
    for alert in alerts:
        table.add_row(
            str(alert["id"]),
            escape(str(alert["brand"])),
            str(alert["kind"]) + (f" ({alert['measure']})" if alert["measure"] else ""),
            str(alert["opened_at"])[:16].replace("T", " "),
            str(alert["closed_at"] or "open")[:16].replace("T", " "),
            str(alert["count"]),
            "" if alert["baseline"] is None else f"{alert['baseline']:.1f}",
        )
    out.print(table if alerts else "No alerts.")
