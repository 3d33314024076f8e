"""A test whose PostgreSQL server is missing skips on a laptop and fails the run under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]

NEEDS_POSTGRES = """
import pytest

@pytest.fixture(params=["true", ""], ids=["ci", "laptop"])
def ci(request, monkeypatch):
    monkeypatch.setenv("CI", request.param)

def test_needs_postgres(ci, pg_url):
    pass
"""


def test_an_unreachable_postgresql_skips_only_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUFWACHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # a fresh process: the real fixture, read anew
    pytester.makeconftest("from tests.conftest import pg_url  # noqa: F401")
    pytester.makepyfile(NEEDS_POSTGRES)

    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")

    result.assert_outcomes(errors=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_needs_postgres[[]ci[]]*",
            "PostgreSQL at *127.0.0.1:1/x not reachable: *",
            "*(CI is set, so this is not skipped)",
        ]
    )
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] *PostgreSQL at *127.0.0.1:1/x not reachable*"])


@pytest.mark.parametrize(("ci", "outcome"), [("true", {"errors": 1}), ("", {"skipped": 1})])
def test_the_database_shared_by_a_test_session_follows_the_same_rule(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: dict[str, int]
) -> None:
    monkeypatch.setenv("RUFWACHT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/x")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest("from tests.conftest import *  # noqa: F403")
    pytester.makepyfile("def test_needs_postgres(db, db_url):\n    pass\n")

    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider", "-k", "postgresql")

    result.assert_outcomes(**outcome)
    result.stdout.fnmatch_lines(["*PostgreSQL at *127.0.0.1:1/x not reachable*"])
