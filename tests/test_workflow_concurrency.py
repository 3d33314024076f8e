"""Two people acting on one item at once: exactly one wins, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from classifiers.registry import load_classifier
from monitor.access.roles import Role
from monitor.access.users import find_user
from monitor.queue import drafts
from monitor.queue.drafts import DraftChecker, DraftStatus
from monitor.queue.workflow import StaleItemError
from monitor.storage.database import Database
from monitor.storage.models import AuditEntry, QueueItem
from tests import factories

REPLY = "Danke für Ihre Nachricht, es tut uns leid. Wir prüfen das und melden uns."


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def test_two_concurrent_approvals_of_one_draft_one_wins(database: Database) -> None:
    checker = DraftChecker([], load_classifier("ngram-offensive", "offensive"))
    with database.transaction() as session:
        agent = factories.user("jana", Role.AGENT)
        approvers = [factories.user("olaf", Role.APPROVER), factories.user("lea", Role.LEAD)]
        item = factories.queue_item()
        session.add_all([agent, *approvers, item])
        session.flush()
        drafts.save_draft(session, agent, item, item.version, REPLY, checker)
    item_id = item.id
    both_loaded = threading.Barrier(2, timeout=30)
    outcomes: dict[str, object] = {}

    def approve_as(name: str) -> None:
        try:
            with database.transaction() as session:
                user = find_user(session, name)
                queued = session.get(QueueItem, item_id)
                assert user is not None and queued is not None
                seen = queued.version
                drafts.current_draft(session, queued)
                both_loaded.wait()
                drafts.approve(session, user, queued, seen)
            outcomes[name] = "approved"
        except StaleItemError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=approve_as, args=(u.name,)) for u in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [name for name, outcome in outcomes.items() if outcome == "approved"]
    losers = [outcome for outcome in outcomes.values() if isinstance(outcome, StaleItemError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "Jemand anderes hat diesen Eintrag gerade geändert" in str(losers[0])
    with database.transaction() as session:
        queued = session.get(QueueItem, item_id)
        assert queued is not None
        draft = drafts.current_draft(session, queued)
        assert draft is not None and draft.status == DraftStatus.APPROVED
        assert draft.approver is not None and draft.approver.name == winners[0]
        approvals = session.scalars(
            select(AuditEntry.actor_name).where(AuditEntry.action == "approve")
        ).all()
        assert approvals == winners
