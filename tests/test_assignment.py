"""Automatic assignment and bulk actions over many queue items."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from monitor.access.policies import PermissionDenied
from monitor.access.roles import Role
from monitor.queue import workflow
from monitor.queue.assignment import auto_assign, reoffer_waiting
from monitor.queue.audit import audit_trail
from monitor.queue.bulk import BulkAction, bulk
from monitor.queue.states import QueueStatus
from monitor.queue.workflow import WorkflowError
from monitor.storage.database import Database
from monitor.storage.models import QueueItem, UserRecord, utcnow
from tests import factories


def items(session: Session, *priorities: int, brand: str = "DHL") -> list[QueueItem]:
    queued = [factories.queue_item(priority=p, brand=brand) for p in priorities]
    session.add_all(queued)
    session.flush()
    return queued


def people(session: Session) -> dict[str, UserRecord]:
    members = {
        "jana": factories.user("jana", on_shift=True),
        "tom": factories.user("tom", on_shift=True),
        "olaf": factories.user("olaf", Role.APPROVER, on_shift=True, brands=["Telekom"]),
        "lea": factories.user("lea", Role.LEAD),
        "ex": factories.user("ex", on_shift=True, active=False),
    }
    session.add_all(members.values())
    session.flush()
    return members


def test_round_robin_hands_out_by_urgency_up_to_the_cap(db: Database) -> None:
    with db.transaction() as session:
        team = people(session)
        [busy] = items(session, 10)
        workflow.take(session, team["tom"], busy, busy.version)
        first, second, third, fourth = items(session, 90, 80, 70, 60)
        [telekom] = items(session, 50, brand="Telekom")
        handed = auto_assign(session, cap=2)
        assert [(item, user.name) for item, user in handed] == [
            (first, "jana"),
            (second, "tom"),
            (third, "jana"),
            (telekom, "olaf"),
        ]
        assert (fourth.status, fourth.assignee) == (QueueStatus.NEW, None)
        entry = audit_trail(session, first)[-1]
        assert (entry.actor_id, entry.actor_name, entry.action) == (None, "System", "auto_assign")
        assert first.status == QueueStatus.ASSIGNED


def test_an_item_nobody_started_on_is_offered_to_someone_else(db: Database) -> None:
    with db.transaction() as session:
        team = people(session)
        stuck, started = items(session, 90, 80)
        workflow.take(session, team["jana"], stuck, stuck.version)
        workflow.take(session, team["jana"], started, started.version)
        started.status = QueueStatus.DRAFT
        for item in (stuck, started):
            item.assigned_at = utcnow() - timedelta(hours=2)
        handed = reoffer_waiting(session, timedelta(hours=1), cap=5)
        assert [(item, user.name) for item, user in handed] == [(stuck, "tom")]
        assert started.assignee is team["jana"]
        actions = [entry.action for entry in audit_trail(session, stuck)]
        assert actions == ["take", "reoffer", "auto_assign"]


def test_bulk_actions_report_what_happened_to_each_item(db: Database) -> None:
    with db.transaction() as session:
        team = people(session)
        fresh, gone, changed = items(session, 90, 80, 70)
        gone.status = QueueStatus.DELETED
        seen = changed.version
        workflow.take(session, team["tom"], changed, seen)
        results = bulk(
            session,
            team["lea"],
            [fresh, gone, changed],
            BulkAction.RESOLVE,
            versions={changed.id: seen},
        )
        assert [(r.item_id, r.ok) for r in results] == [
            (fresh.id, True),
            (gone.id, False),
            (changed.id, False),
        ]
        assert results[0].message == "Erledigt: erledigt."
        assert "'deleted'" in results[1].message
        assert "Jemand anderes" in results[2].message
        assert (fresh.status, gone.status, changed.status) == (
            QueueStatus.RESOLVED,
            QueueStatus.DELETED,
            QueueStatus.ASSIGNED,
        )


def test_bulk_needs_the_role_and_the_actions_arguments(db: Database) -> None:
    with db.transaction() as session:
        team = people(session)
        queued = items(session, 90, 80)
        with pytest.raises(PermissionDenied, match="Sammelaktionen"):
            bulk(session, team["jana"], queued, BulkAction.MARK_TROLL)
        with pytest.raises(WorkflowError, match="Grund"):
            bulk(session, team["lea"], queued, BulkAction.DISMISS)
        with pytest.raises(WorkflowError, match="Team"):
            bulk(session, team["lea"], queued, "escalate", team="marketing", comment="x")
        results = bulk(session, team["lea"], queued, "assign", assignee=team["olaf"])
        assert not any(r.ok for r in results) and "olaf kann" in results[0].message
        results = bulk(session, team["lea"], queued, "escalate", team="pr", comment="Shitstorm")
        assert all(r.ok for r in results)
        assert {item.escalated_to for item in queued} == {"pr"}
