"""Team accounts: argon2 passwords, brand scopes, API tokens, and `rufwacht users`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.access.roles import Role
from monitor.access.users import (
    UserError,
    add_user,
    authenticate,
    can_see_brand,
    issue_token,
    revoke_tokens,
    user_for_token,
)
from monitor.cli import app
from monitor.storage.database import Database
from monitor.storage.models import ApiToken, UserRecord

runner = CliRunner()
PASSWORD = "Kaffee-und-Kuchen-42"


def test_a_user_logs_in_with_the_right_password_only(db: Database) -> None:
    with db.transaction() as session:
        user = add_user(session, "jana", Role.AGENT, PASSWORD)
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith("$argon2")
        assert authenticate(session, "jana", PASSWORD) is user
        assert authenticate(session, "jana", PASSWORD.upper()) is None
        assert authenticate(session, "niemand", PASSWORD) is None
        user.active = False
        assert authenticate(session, "jana", PASSWORD) is None


@pytest.mark.parametrize(
    ("name", "role", "password", "problem"),
    [
        ("Jana Maier", "agent", PASSWORD, "2–64 Kleinbuchstaben"),
        ("jana", "chef", PASSWORD, "Unbekannte Rolle „chef“"),
        ("jana", "agent", "kurz", "mindestens 10 Zeichen"),
    ],
)
def test_add_user_names_what_is_wrong(
    db: Database, name: str, role: str, password: str, problem: str
) -> None:
    with db.transaction() as session, pytest.raises(UserError, match=problem):
        add_user(session, name, role, password)


def test_a_name_is_taken_once(db: Database) -> None:
    with db.transaction() as session:
        add_user(session, "jana", Role.AGENT, PASSWORD)
        with pytest.raises(UserError, match="gibt es schon"):
            add_user(session, "jana", Role.LEAD, PASSWORD)


def test_brand_scope_limits_what_a_user_sees(db: Database) -> None:
    with db.transaction() as session:
        scoped = add_user(session, "tom", Role.AGENT, PASSWORD, ["Telekom", " DHL "])
        everyone = add_user(session, "ute", Role.LEAD, PASSWORD)
        assert scoped.brands == ["DHL", "Telekom"]
        assert can_see_brand(scoped, "Telekom") and not can_see_brand(scoped, "Vodafone")
        assert can_see_brand(everyone, "Vodafone")


def test_tokens_are_stored_hashed_and_stop_working_when_revoked(db: Database) -> None:
    with db.transaction() as session:
        user = add_user(session, "api-bot", Role.AGENT, PASSWORD)
        token = issue_token(session, user)
        stored = session.scalars(select(ApiToken.digest)).all()
        assert token not in stored and len(stored) == 1
        assert user_for_token(session, token) is user
        assert user_for_token(session, token + "x") is None
        assert revoke_tokens(session, user) == 1
        assert user_for_token(session, token) is None


def test_cli_adds_a_user_from_an_environment_variable_and_prints_a_token(
    config_file: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JANA_PW", PASSWORD)
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "jana",
            "--role",
            "approver",
            "--password-env",
            "JANA_PW",
            "--brands",
            "Telekom,DHL",
            "--config",
            str(config_file),
        ],
    )
    assert added.exit_code == 0, added.output
    assert "jana (approver; DHL, Telekom)" in added.output
    assert PASSWORD not in added.output
    token = runner.invoke(app, ["users", "token", "jana", "--config", str(config_file)])
    assert token.exit_code == 0 and token.output.startswith("rw_")
    database = Database(db_url)
    with database.transaction() as session:
        assert user_for_token(session, token.output.strip()).name == "jana"
        assert session.scalars(select(UserRecord.role)).all() == [Role.APPROVER]
    database.dispose()
    revoked = runner.invoke(app, ["users", "token", "jana", "--revoke", "-c", str(config_file)])
    assert "Revoked 1 token(s)." in revoked.output


def test_cli_refuses_a_missing_password_variable(config_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            "jana",
            "--role",
            "agent",
            "--password-env",
            "NOPE_PW",
            "--config",
            str(config_file),
        ],
    )
    assert result.exit_code == 2
    assert "environment variable NOPE_PW is not set" in result.output
