"""The queue workflow: the transition table, four-eyes replies, audit log, labels, reopening."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from classifiers.registry import load_classifier
from monitor.access.policies import PermissionDenied
from monitor.access.roles import Role
from monitor.queue import drafts, labels, presence, workflow
from monitor.queue.audit import audit_trail
from monitor.queue.drafts import DraftChecker, DraftStatus, SendMode
from monitor.queue.sla import SlaClock
from monitor.queue.states import QueueStatus, TransitionError, check_transition
from monitor.queue.workflow import StaleItemError, WorkflowError
from monitor.runtime import Runtime
from monitor.settings import Settings, SlaSettings
from monitor.storage.database import Database
from monitor.storage.models import QueueItem, UserRecord, utcnow
from tests import factories

S = QueueStatus
CLOCK = SlaClock(SlaSettings())
SIDE_EXITS = {S.DISMISSED, S.IGNORED_TROLL, S.ESCALATED, S.MONITOR, S.DELETED}
WORKFLOW: dict[QueueStatus, set[QueueStatus]] = {
    S.NEW: {S.ASSIGNED, S.RESOLVED} | SIDE_EXITS,
    S.ASSIGNED: {S.NEW, S.ASSIGNED, S.DRAFT, S.RESOLVED} | SIDE_EXITS,
    S.DRAFT: {S.NEW, S.ASSIGNED, S.DRAFT, S.AWAITING_APPROVAL} | SIDE_EXITS,
    S.AWAITING_APPROVAL: {S.DRAFT, S.REPLIED, S.ESCALATED, S.DELETED},
    S.REPLIED: {S.RESOLVED, S.NEW, S.ASSIGNED, S.DELETED},
    S.RESOLVED: {S.NEW, S.ASSIGNED},
    S.DISMISSED: {S.NEW, S.ASSIGNED},
    S.IGNORED_TROLL: {S.NEW, S.RESOLVED},
    S.ESCALATED: {S.NEW, S.ASSIGNED, S.RESOLVED, S.DELETED},
    S.MONITOR: {S.NEW, S.ASSIGNED, S.RESOLVED} | SIDE_EXITS - {S.MONITOR},
    S.DELETED: set(),
}
"""The issue's workflow, written out by hand: the table in `states` must say the same."""

GOOD_REPLY = (
    "Hallo, danke für Ihre Nachricht, und es tut uns leid, dass der Zug ausgefallen ist. "
    "Schicken Sie uns bitte per Direktnachricht Ihre Verbindung, dann prüfen wir das."
)
INSULT = "Danke für Ihre Nachricht. Aber ehrlich, Sie sind einfach zu dumm, den Fahrplan zu lesen."


@pytest.fixture(scope="module")
def checker() -> DraftChecker:
    return DraftChecker([], load_classifier("ngram-offensive", "offensive"))


@dataclass
class Team:
    agent: UserRecord
    colleague: UserRecord
    approver: UserRecord
    lead: UserRecord
    item: QueueItem


def team(session: Session, **item_fields: Any) -> Team:
    people = [
        factories.user("jana", Role.AGENT),
        factories.user("tom", Role.AGENT),
        factories.user("olaf", Role.APPROVER),
        factories.user("lea", Role.LEAD),
    ]
    item = factories.queue_item(**item_fields)
    session.add_all([*people, item])
    session.flush()
    return Team(*people, item)


def submitted(session: Session, t: Team, checker: DraftChecker, text: str = GOOD_REPLY) -> None:
    drafts.save_draft(session, t.agent, t.item, t.item.version, text, checker)


@pytest.mark.parametrize("source", list(S))
def test_the_transition_table_is_the_workflow(source: QueueStatus) -> None:
    for target in S:
        if target in WORKFLOW[source]:
            check_transition(source, target)
        else:
            with pytest.raises(TransitionError, match=f"'{source.value}'.*nach '{target.value}'"):
                check_transition(source, target)


MANUAL = [S.NEW, S.ASSIGNED, S.RESOLVED, S.DISMISSED, S.IGNORED_TROLL, S.ESCALATED, S.MONITOR]


@pytest.mark.parametrize("source", list(S))
def test_status_changes_by_hand_follow_the_table(db: Database, source: QueueStatus) -> None:
    with db.transaction() as session:
        t = team(session, status=source)
        t.item.assignee_id = t.lead.id
        session.flush()
        for target in MANUAL:
            # Taking an item with a draft in progress keeps the draft.
            expected = S.DRAFT if (source, target) == (S.DRAFT, S.ASSIGNED) else target
            savepoint = session.begin_nested()
            try:
                workflow.transition(
                    session, t.lead, t.item, t.item.version, target, "Grund", "legal"
                )
            except TransitionError:
                assert target not in WORKFLOW[source], f"{source} → {target} refused"
            else:
                assert target in WORKFLOW[source], f"{source} → {target} allowed"
                assert t.item.status is expected
                assert audit_trail(session, t.item)[-1].to_status == expected.value
            savepoint.rollback()
        for target in (S.DRAFT, S.AWAITING_APPROVAL, S.REPLIED):
            with pytest.raises(WorkflowError, match="nur über Entwurf, Freigabe und Senden"):
                workflow.transition(session, t.lead, t.item, t.item.version, target)
        with pytest.raises(PermissionDenied, match="Plattform"):
            workflow.transition(session, t.lead, t.item, t.item.version, S.DELETED)


def test_a_reply_goes_out_after_a_second_person_approves_and_everything_is_audited(
    db: Database, checker: DraftChecker
) -> None:
    with db.transaction() as session:
        t = team(session)
        submitted(session, t, checker)
        assert t.item.status is S.AWAITING_APPROVAL and t.item.assignee is t.agent
        draft = drafts.approve(session, t.approver, t.item, t.item.version)
        assert draft.status == DraftStatus.APPROVED and draft.approver_id == t.approver.id
        with pytest.raises(WorkflowError, match="nicht mehr geändert"):
            drafts.save_draft(session, t.agent, t.item, t.item.version, "Anders.", checker)
        drafts.mark_replied(session, t.agent, t.item, t.item.version)
        assert t.item.status is S.REPLIED
        assert (draft.status, draft.sent_via, draft.sent_link) == ("sent", "dry_run", None)
        trail = [
            (e.actor_id, e.actor_name, e.action, e.from_status, e.to_status)
            for e in audit_trail(session, t.item)
        ]
    agent, approver = t.agent.id, t.approver.id
    assert trail == [
        (agent, "jana", "take", "new", "assigned"),
        (agent, "jana", "draft", "assigned", "draft"),
        (agent, "jana", "submit", "draft", "awaiting_approval"),
        (approver, "olaf", "approve", "awaiting_approval", "awaiting_approval"),
        (agent, "jana", "reply", "awaiting_approval", "replied"),
    ]


def test_nobody_approves_their_own_draft_and_agents_approve_nothing(
    db: Database, checker: DraftChecker
) -> None:
    with db.transaction() as session:
        t = team(session)
        drafts.save_draft(session, t.lead, t.item, t.item.version, GOOD_REPLY, checker)
        version = t.item.version
        with pytest.raises(PermissionDenied, match="Vier-Augen-Prinzip"):
            drafts.approve(session, t.lead, t.item, version, override_reason="Ich darf das")
        with pytest.raises(PermissionDenied, match="Antworten freigeben dürfen nur"):
            drafts.approve(session, t.colleague, t.item, version)
        assert t.item.version == version
        assert drafts.current_draft(session, t.item).status == DraftStatus.SUBMITTED  # type: ignore[union-attr]


def test_a_blocking_finding_yields_only_to_a_leads_written_reason(
    db: Database, checker: DraftChecker
) -> None:
    with db.transaction() as session:
        t = team(session)
        submitted(session, t, checker, INSULT)
        draft = drafts.current_draft(session, t.item)
        assert draft is not None and drafts.blocking_rules(draft) == ["stay_factual"]
        with pytest.raises(PermissionDenied, match="Blockierende Hinweise übergehen dürfen nur"):
            drafts.approve(session, t.approver, t.item, t.item.version, "passt schon")
        with pytest.raises(PermissionDenied, match="Begründung"):
            drafts.approve(session, t.lead, t.item, t.item.version)
        drafts.approve(session, t.lead, t.item, t.item.version, "Zitat aus dem Kundenbeitrag")
        assert draft.override_reason == "Zitat aus dem Kundenbeitrag"
        entry = audit_trail(session, t.item)[-1]
        assert (entry.action, entry.actor_name, entry.comment) == (
            "approve",
            "lea",
            "Zitat aus dem Kundenbeitrag",
        )
        assert entry.details["override"] is True
        assert entry.details["blocking_rules"] == ["stay_factual"]


def test_a_rejected_draft_goes_back_with_the_note_and_stays_as_it_was(
    db: Database, checker: DraftChecker
) -> None:
    with db.transaction() as session:
        t = team(session)
        submitted(session, t, checker)
        with pytest.raises(WorkflowError, match="Notiz"):
            drafts.reject(session, t.approver, t.item, t.item.version, " ")
        rejected = drafts.reject(session, t.approver, t.item, t.item.version, "Bitte kürzer.")
        assert t.item.status is S.DRAFT
        assert (rejected.status, rejected.note, rejected.approver_id) == (
            "rejected",
            "Bitte kürzer.",
            t.approver.id,
        )
        assert audit_trail(session, t.item)[-1].comment == "Bitte kürzer."
        second = drafts.save_draft(
            session, t.agent, t.item, t.item.version, "Danke, wir prüfen das.", checker
        )
        assert second.id != rejected.id and rejected.text == GOOD_REPLY
        assert t.item.status is S.AWAITING_APPROVAL


def test_sent_by_hand_needs_the_link(db: Database, checker: DraftChecker) -> None:
    with db.transaction() as session:
        t = team(session)
        with pytest.raises(WorkflowError, match="freigegebene"):
            drafts.mark_replied(session, t.agent, t.item, t.item.version)
        submitted(session, t, checker)
        drafts.approve(session, t.approver, t.item, t.item.version)
        with pytest.raises(WorkflowError, match="Link"):
            drafts.mark_replied(session, t.agent, t.item, t.item.version, SendMode.BY_HAND)
        link = "https://x.com/DB_Bahn/status/1"
        draft = drafts.mark_replied(session, t.agent, t.item, t.item.version, "by_hand", link)
        assert (draft.sent_via, draft.sent_link) == ("by_hand", link)
        assert audit_trail(session, t.item)[-1].details["link"] == link


def test_an_outdated_version_is_refused_with_the_fresh_state(db: Database) -> None:
    with db.transaction() as session:
        t = team(session)
        seen = t.item.version
        workflow.take(session, t.colleague, t.item, seen)
        with pytest.raises(StaleItemError, match="Jemand anderes hat diesen Eintrag") as caught:
            workflow.take(session, t.agent, t.item, seen)
        assert caught.value.fresh == workflow.ItemState(S.ASSIGNED, t.item.version, "tom")
        assert t.item.version > seen
        assert "zugewiesen, bearbeitet von tom" in str(caught.value)


def test_side_exits_need_their_reason_team_and_note(db: Database) -> None:
    with db.transaction() as session:
        t = team(session)
        v = t.item.version
        with pytest.raises(WorkflowError, match="Grund"):
            workflow.dismiss(session, t.agent, t.item, v, "")
        with pytest.raises(WorkflowError, match="Unbekanntes Team 'marketing'"):
            workflow.escalate(session, t.agent, t.item, v, "marketing", "Bitte prüfen")
        with pytest.raises(WorkflowError, match="Notiz"):
            workflow.escalate(session, t.agent, t.item, v, "legal", None)
        workflow.escalate(session, t.agent, t.item, v, "legal", "Drohung mit Anwalt")
        assert (t.item.status, t.item.escalated_to) == (S.ESCALATED, "legal")
        entry = audit_trail(session, t.item)[-1]
        assert (entry.comment, entry.details) == ("Drohung mit Anwalt", {"team": "legal"})


def test_a_colleagues_item_and_another_brand_are_out_of_reach(db: Database) -> None:
    with db.transaction() as session:
        t = team(session)
        workflow.take(session, t.colleague, t.item, t.item.version)
        with pytest.raises(PermissionDenied, match="Einträge anderer bearbeiten"):
            workflow.close(session, t.agent, t.item, t.item.version, S.RESOLVED)
        t.agent.brands = ["Telekom"]
        with pytest.raises(PermissionDenied, match="Marke außerhalb Ihres Bereichs"):
            labels.add_label(session, t.agent, t.item, "troll", "troll")
        workflow.assign(session, t.approver, t.item, t.item.version, t.lead)
        assert t.item.assignee is t.lead
        assert audit_trail(session, t.item)[-1].details == {"assignee": "lea"}


def test_the_author_writing_again_reopens_the_conversation(db: Database) -> None:
    with db.transaction() as session:
        t = team(session, status=S.REPLIED)
        t.item.assignee_id = t.agent.id
        troll_item = factories.queue_item(status=S.IGNORED_TROLL)
        session.add(troll_item)
        session.flush()
        stranger = factories.stored_post(parent_id=t.item.post.platform_id)
        troll_again = factories.stored_post(
            author=troll_item.post.author, parent_id=troll_item.post.platform_id
        )
        again = factories.stored_post(author=t.item.post.author, parent_id=t.item.post.platform_id)
        session.add_all([stranger, troll_again, again])
        session.flush()
        assert workflow.reopen_on_new_post(session, stranger, CLOCK) is None
        assert workflow.reopen_on_new_post(session, troll_again, CLOCK) is None
        t.item.due_at = again.created_at - timedelta(days=3)
        assert workflow.reopen_on_new_post(session, again, CLOCK) is t.item
        assert (t.item.status, t.item.assignee) == (S.ASSIGNED, t.agent)
        assert t.item.waiting_since == min(again.created_at, again.fetched_at)
        assert t.item.due_at > again.created_at, "the SLA clock starts again"
        entry = audit_trail(session, t.item)[-1]
        assert (entry.actor_id, entry.actor_name, entry.action) == (
            None,
            "System",
            "reopen_new_post",
        )
        t.agent.active = False
        workflow.close(session, t.lead, t.item, t.item.version, S.RESOLVED)
        workflow.reopen_on_new_post(session, again, CLOCK)
        assert (t.item.status, t.item.assignee) == (S.NEW, None)


def test_reviewer_labels_keep_the_model_they_correct(db: Database) -> None:
    with db.transaction() as session:
        t = team(session)
        label = labels.add_label(session, t.agent, t.item, "sentiment", "neutral")
        assert (label.model_label, label.model_version) == ("negative", "test-sentiment")
        assert (label.reviewer_id, label.reviewer_name) == (t.agent.id, "jana")
        with pytest.raises(WorkflowError, match="Unbekanntes Label 'yes' für troll"):
            labels.add_label(session, t.agent, t.item, "troll", "yes")
        assert audit_trail(session, t.item)[-1].details["model_label"] == "negative"


def test_presence_shows_who_has_the_item_open(db: Database) -> None:
    with db.transaction() as session:
        t = team(session)
        now = utcnow()
        presence.touch(session, t.agent, t.item, now - timedelta(minutes=5))
        presence.touch(session, t.approver, t.item, now - timedelta(seconds=30))
        presence.touch(session, t.lead, t.item, now - timedelta(seconds=10))
        assert presence.present(session, t.item, now) == ["lea", "olaf"]
        presence.touch(session, t.agent, t.item, now)
        presence.leave(session, t.lead, t.item)
        assert presence.present(session, t.item, now) == ["jana", "olaf"]


def test_a_post_deleted_upstream_closes_its_item_in_the_audit_log(db: Database) -> None:
    with db.transaction() as session:
        t = team(session, status=S.AWAITING_APPROVAL)
        workflow.mark_deleted(t.item)
        assert t.item.status == S.DELETED
        entry = audit_trail(session, t.item)[-1]
        assert (entry.actor_name, entry.action, entry.from_status) == (
            "System",
            "deleted_upstream",
            "awaiting_approval",
        )


def test_the_runtime_builds_the_draft_checker_from_the_config(
    db: Database, settings: Settings
) -> None:
    classifiers = settings.classifiers.model_copy(update={"offensive": "ngram-offensive"})
    checker = Runtime(settings.model_copy(update={"classifiers": classifiers})).draft_checker
    with db.transaction() as session:
        t = team(session)
        findings = checker.findings(session, t.item, "Du bist ein Idiot.", None)
    assert {f["rule"] for f in findings} >= {"stay_factual", "brand_tone"}


def test_an_item_escalated_during_approval_gets_a_new_draft_when_it_returns(
    db: Database, checker: DraftChecker
) -> None:
    with db.transaction() as session:
        t = team(session)
        submitted(session, t, checker)
        workflow.escalate(session, t.lead, t.item, t.item.version, "legal", "Bitte prüfen")
        with pytest.raises(WorkflowError, match="wartet keine Antwort auf Freigabe"):
            drafts.approve(session, t.approver, t.item, t.item.version)
        workflow.take(session, t.agent, t.item, t.item.version)
        fresh = drafts.save_draft(
            session, t.agent, t.item, t.item.version, "Danke, Antwort nach Prüfung.", checker
        )
        assert fresh.text == "Danke, Antwort nach Prüfung." and t.item.status == S.AWAITING_APPROVAL
