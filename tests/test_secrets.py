"""No credential leaves the process: every command at --verbose, in text and JSON logs.

X, Reddit and database credentials are set to known values; the commands' stdout, stderr
and every table of the database must not contain any of them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from pprint import pformat

import pytest
from sqlalchemy import MetaData, create_engine, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.logs import LogFormat, setup_logging
from monitor.storage.database import Database
from monitor.storage.source_states import mark_failing, source_states
from tests.conftest import LIVE_ENV, live_config
from tests.fakes import reddit
from tests.fakes.reddit import FakeReddit
from tests.fakes.twitter import FakeX
from tests.test_run import RUFWACHT

runner = CliRunner()
DB_PASSWORD = "S3cr3t-db-pw"
REVOKED_SECRET = "revoked-S3cr3t-reddit"
SECRETS = [*LIVE_ENV.values(), reddit.ACCESS_TOKEN, DB_PASSWORD, REVOKED_SECRET]
FAST_MODELS = {
    "RUFWACHT_CLASSIFIERS__SENTIMENT": "ngram-sentiment",
    "RUFWACHT_CLASSIFIERS__OFFENSIVE": "ngram-offensive",
}
LIVE = ("twitter", "reddit")
EVAL_DATA = Path(__file__).parent / "data" / "sentiment_contrast_check.tsv"
COMPLAINT = {"id": "1", "text": "@DB_Bahn Zug fällt schon wieder aus, unzumutbar!"}


def squeezed(text: str) -> str:
    """Without whitespace, so a secret that rich wrapped across lines is still found."""
    return "".join(text.split())


def assert_no_secrets(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} in {where}"
        assert secret not in squeezed(text), f"{secret!r} in {where} (wrapped)"


def cli(log_format: str, args: list[str], env: dict[str, str], stdin: str = "") -> str:
    """Run one command in-process; returns its stdout and stderr, checked for secrets."""
    result = runner.invoke(app, ["--log-format", log_format, *args], env=env, input=stdin)
    assert result.exit_code in (0, 1), result.output
    output = result.stdout + result.stderr
    assert_no_secrets(f"rufwacht {' '.join(args)}", output)
    return output


def run_until_first_polls(log_format: str, config: Path, env: dict[str, str]) -> str:
    """`rufwacht run --verbose` as a real process, stopped once both live sources polled."""
    log = config.with_name(f"run-{log_format}.log")
    command = [RUFWACHT, "--log-format", log_format, "run", "--verbose", "--config", str(config)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out)
        deadline = time.monotonic() + 120
        try:
            while not all(f"{s}:fetched" in squeezed(log.read_text("utf-8")) for s in LIVE):
                assert process.poll() is None, log.read_text("utf-8")
                assert time.monotonic() < deadline, "no poll within 120 s"
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGINT)  # a no-op once it has exited
        assert process.wait(timeout=60) == 0
    output = log.read_text("utf-8")
    assert_no_secrets("rufwacht run", output)
    return output


def database_dump(url: str) -> dict[str, list[dict[str, object]]]:
    """Every row of every table."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                table.name: [dict(row._mapping) for row in connection.execute(select(table))]
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_command_reveals_a_credential(
    log_format: str, tmp_path: Path, pg_url: str, fake_x: FakeX, fake_reddit: FakeReddit
) -> None:
    author = fake_x.add_user("pendler_ffm", followers=180)
    fake_x.add_tweet("Telekom Störung seit gestern, kein Internet, einfach schlecht", author)
    fake_reddit.add_user("pendler")
    fake_reddit.add_submission("Finanzen", "Vodafone kündigen?", "Seit Wochen Störung, Frechheit.")
    config = str(live_config(tmp_path, fake_x, fake_reddit))
    db = pg_url.replace("//postgres@", f"//postgres:{DB_PASSWORD}@")
    env = {**LIVE_ENV, **FAST_MODELS, "RUFWACHT_STORAGE__URL": db}
    revoked = {**env, "REDDIT_CLIENT_SECRET": REVOKED_SECRET}

    cli(log_format, ["init", "--config", str(tmp_path / "new.toml")], env)
    polled = cli(log_format, ["poll", "--once", "--verbose", "--config", config], env)
    failed = cli(log_format, ["poll", "--once", "--verbose", "--config", config], revoked)
    cli(log_format, ["demo", "--config", config], env)
    cli(log_format, ["classify", "--config", config], env, json.dumps(COMPLAINT) + "\n")
    cli(log_format, ["queue", "list", "--config", config], env)
    cli(log_format, ["queue", "list", "--json", "--config", config], env)
    data = ["--data", str(EVAL_DATA)]
    cli(log_format, ["eval", "--task", "sentiment", *data, "--config", config], env)
    ran = run_until_first_polls(log_format, Path(config), revoked)

    for output in (polled, failed, ran):  # tweepy logged its request headers, redacted
        assert "'Authorization':'Bearer***'" in squeezed(output)
    assert "REDDIT_CLIENT_ID/REDDIT_CLIENT_SECRET" in " ".join(failed.split())
    if log_format == "json":  # `run` writes nothing but its log
        assert all(json.loads(line)["message"] for line in ran.splitlines())
    dump = database_dump(db)
    assert dump["posts"] and dump["queue_items"]
    states = {row["source"]: row["status"] for row in dump["source_states"]}
    assert states["reddit"] == "failing"
    assert_no_secrets("the database", repr(dump))


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_third_party_records_are_redacted_at_every_level_with_their_tracebacks(
    log_format: LogFormat, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    setup_logging(log_format)
    caplog.set_level(logging.DEBUG)  # restored after the test
    token_answer = {"access_token": reddit.ACCESS_TOKEN, "token_type": "bearer"}
    logging.getLogger("prawcore").warning("Data: %s", pformat(token_answer))
    logging.getLogger("urllib3.connectionpool").error(
        "GET /2/tweets?bearer_token=%s HTTP/1.1", LIVE_ENV["TWITTER_BEARER_TOKEN"]
    )
    try:
        raise ConnectionError(f"postgresql://postgres:{DB_PASSWORD}@db:5432/rufwacht refused")
    except ConnectionError:
        logging.getLogger("sqlalchemy.pool").critical("cannot connect", exc_info=True)
    try:
        raise PermissionError(f"Authorization: Basic {REVOKED_SECRET}")
    except PermissionError:
        logging.getLogger("tweepy.client").debug("request failed", exc_info=True)

    logged = capsys.readouterr().err
    assert_no_secrets("the log", logged)
    for marker in ("'access_token':'***'", "bearer_token=***", "postgres:***@db", "Basic***"):
        assert marker in squeezed(logged)
    assert "PermissionError" in logged
    if log_format is LogFormat.json:
        records = [json.loads(line) for line in logged.splitlines()]
        assert [r["level"] for r in records] == ["WARNING", "ERROR", "CRITICAL", "DEBUG"]
        assert records[3]["logger"] == "tweepy.client"
        assert "Traceback" in records[3]["exc"]


def test_a_stored_source_error_keeps_no_token(db: Database) -> None:
    url = "https://oauth.reddit.com/r/de/new?access_token={}&limit=100"
    problem = "unexpected error: HTTPError('503 Server Error for url: {}')"
    with db.transaction() as session:
        mark_failing(session, "reddit", problem.format(url.format(reddit.ACCESS_TOKEN)))
    with db.transaction() as session:
        (state,) = source_states(session)
    assert state.last_error == problem.format(url.format("***"))
