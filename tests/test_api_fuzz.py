"""A property-based run of the API's own OpenAPI spec (schemathesis): whatever a caller sends,
no server error, and every response, errors included, matches what the spec documents.

The check that every schema-valid request is accepted is left out: whether an operation is
possible depends on the item's state (approve needs a submitted draft, a transition a source
state that allows it), which no schema can say; such a refusal is a documented 400.

Bounded here (`FUZZ_EXAMPLES`, 25 per operation by default); `make fuzz` runs it longer.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck

from monitor.access.users import digest
from monitor.alerts.intake import alert_on_item
from monitor.runtime import Runtime
from monitor.settings import AlertSettings, default_settings
from monitor.storage.database import Database
from monitor.storage.models import ApiToken
from monitor.web.app import create_app
from tests import factories
from tests.web_team import new_item

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))


@pytest.fixture
def backend() -> str:
    """The API's contract does not depend on the database: SQLite only."""
    return "sqlite"


ADMIN_TOKEN = "rw_fuzz-admin-token-known-before-the-database-exists"
"""Known in advance, since schemathesis prepares some requests before any fixture runs."""


@pytest.fixture
def admin(db: Database) -> None:
    """An admin with `ADMIN_TOKEN` (every route is open to them), a few items to hit and an
    alert about one of them."""
    with db.transaction() as session:
        items = [new_item(session) for _ in range(3)]
        verdict = factories.verdict(items[0].post, "crisis")
        session.add(verdict)
        alert_on_item(session, items[0], verdict, AlertSettings(), factories.T0)
        user = factories.user("root", "admin")
        session.add(user)
        session.flush()
        session.add(ApiToken(user_id=user.id, digest=digest(ADMIN_TOKEN)))


schema = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(Runtime(default_settings()))
)
"""The spec, read from an app without a database (it touches none to describe itself); the
requests go to the test's app on the test database."""


@schema.auth(refresh_interval=None)
class AdminToken:
    """The admin's token on every request, except those where schemathesis leaves the
    credentials out or garbles them on purpose (then 401 is the documented answer)."""

    def get(self, _case: schemathesis.Case, _context: object) -> str:
        return ADMIN_TOKEN

    def set(self, case: schemathesis.Case, token: str, _context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_documented_contract(
    case: schemathesis.Case, web_client: TestClient, admin: None
) -> None:
    case.call_and_validate(
        app=web_client.app,
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
