"""Who may do what: the permission policies the web UI, the API and the CLI all ask."""

from __future__ import annotations

import pytest

from monitor.access import policies
from monitor.access.policies import PermissionDenied, authorize
from monitor.access.roles import Role
from monitor.queue.states import QueueStatus
from monitor.storage.models import DraftRecord, QueueItem, UserRecord
from tests import factories


def member(role: Role, user_id: int, **fields: object) -> UserRecord:
    person = factories.user(f"{role.value}{user_id}", role, **fields)
    person.id = user_id
    return person


AGENT, APPROVER, LEAD, ADMIN = (member(role, n) for n, role in enumerate(Role, start=1))
OTHER_AGENT = member(Role.AGENT, 9)


def item(brand: str = "DHL", assignee: UserRecord | None = None) -> QueueItem:
    return QueueItem(brand=brand, status=QueueStatus.NEW, assignee_id=assignee and assignee.id)


def draft_by(author: UserRecord) -> DraftRecord:
    return DraftRecord(author_id=author.id, text="Danke für Ihre Nachricht.", status="submitted")


def allowed_roles(check: object) -> set[Role]:
    return {user.role for user in (AGENT, APPROVER, LEAD, ADMIN) if check(user)}  # type: ignore[operator]


def test_approval_needs_the_approver_role_and_someone_other_than_the_drafter() -> None:
    written_by_agent = draft_by(OTHER_AGENT)
    assert allowed_roles(lambda u: policies.can_approve(u, item(), written_by_agent)) == {
        Role.APPROVER,
        Role.LEAD,
        Role.ADMIN,
    }
    for drafter in (APPROVER, LEAD, ADMIN):
        decision = policies.can_approve(drafter, item(), draft_by(drafter))
        assert not decision
        assert "Vier-Augen-Prinzip" in decision.reason
        assert not policies.can_reject(drafter, item(), draft_by(drafter))
    refused = policies.can_approve(AGENT, item(), written_by_agent)
    assert refused.reason == "Antworten freigeben dürfen nur: Freigebende, Lead, Admin."


def test_authorize_raises_the_german_reason() -> None:
    with pytest.raises(PermissionDenied, match="Benutzer verwalten dürfen nur: Admin"):
        authorize(policies.can_manage_users(LEAD))
    authorize(policies.can_manage_users(ADMIN))


def test_only_leads_override_a_block_and_only_with_a_reason() -> None:
    assert allowed_roles(lambda u: policies.can_override_block(u, "Zitat des Kunden")) == {
        Role.LEAD,
        Role.ADMIN,
    }
    no_reason = policies.can_override_block(LEAD, "  ")
    assert not no_reason and "Begründung" in no_reason.reason


def test_lead_only_and_admin_only_actions() -> None:
    assert allowed_roles(policies.can_edit_saved_replies) == {Role.LEAD, Role.ADMIN}
    assert allowed_roles(policies.can_manage_users) == {Role.ADMIN}
    assert allowed_roles(policies.can_bulk) == {Role.APPROVER, Role.LEAD, Role.ADMIN}


def test_agents_take_for_themselves_and_approvers_assign_others() -> None:
    free = item()
    assert allowed_roles(lambda u: policies.can_assign(u, free, u)) == set(Role)
    assert allowed_roles(lambda u: policies.can_assign(u, free, OTHER_AGENT)) == {
        Role.APPROVER,
        Role.LEAD,
        Role.ADMIN,
    }
    taken = item(assignee=OTHER_AGENT)
    assert not policies.can_assign(AGENT, taken, AGENT), "an agent cannot grab a colleague's item"
    assert policies.can_assign(APPROVER, taken, AGENT)


def test_work_on_a_colleagues_item_needs_approver_role() -> None:
    theirs = item(assignee=OTHER_AGENT)
    assert not policies.can_draft(AGENT, theirs)
    assert not policies.can_transition(AGENT, theirs, QueueStatus.RESOLVED)
    assert policies.can_transition(OTHER_AGENT, theirs, QueueStatus.RESOLVED)
    assert policies.can_draft(LEAD, theirs)


def test_nobody_deletes_an_item_by_hand() -> None:
    decision = policies.can_transition(ADMIN, item(), QueueStatus.DELETED)
    assert not decision and "Plattform" in decision.reason


def test_brand_scope_hides_items_of_other_brands() -> None:
    scoped = member(Role.LEAD, 20, brands=["Telekom"])
    dhl = item("DHL")
    for check in (
        policies.can_view(scoped, dhl),
        policies.can_label(scoped, dhl),
        policies.can_draft(scoped, dhl),
        policies.can_assign(scoped, dhl, scoped),
        policies.can_approve(scoped, dhl, draft_by(AGENT)),
    ):
        assert not check and "Marke" in check.reason
    assert policies.can_view(scoped, item("Telekom"))
    assert not policies.can_assign(LEAD, dhl, scoped), "the assignee must see the brand too"


def test_guidance_for_every_brand_is_for_unscoped_leads_only() -> None:
    scoped = member(Role.LEAD, 21, brands=["Telekom"])
    assert allowed_roles(policies.can_edit_playbook_notes) == {Role.LEAD, Role.ADMIN}
    assert policies.can_edit_reply(scoped, "Telekom")
    for refused in (
        policies.can_edit_playbook_notes(scoped),
        policies.can_edit_reply(scoped, None),
    ):
        assert not refused and "alle" in refused.reason


def test_a_deactivated_account_may_do_nothing() -> None:
    gone = member(Role.ADMIN, 30, active=False)
    assert not policies.can_view(gone, item())
    assert not policies.can_manage_users(gone)
    assert "deaktiviert" in policies.can_bulk(gone).reason
