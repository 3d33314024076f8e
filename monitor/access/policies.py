"""Who may do what to the queue: one check per action, asked by the web UI, the API and the CLI.

Each check takes the acting user and what the action touches and returns a `Decision`: falsy
with the German reason when refused. `authorize` turns a refusal into `PermissionDenied`, which
the workflow operations raise, so no caller can skip a check by forgetting it.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.access.roles import Role
from monitor.access.users import can_see_brand
from monitor.queue.states import QueueStatus
from monitor.storage.models import DraftRecord, QueueItem, UserRecord


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    """Why not, in German; empty when allowed."""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


class PermissionDenied(Exception):
    """A refused action; the message is the German reason."""


def authorize(decision: Decision) -> None:
    """Raise `PermissionDenied` with the reason unless `decision` allows."""
    if not decision:
        raise PermissionDenied(decision.reason)


_ROLE_NAMES = {
    Role.AGENT: "Agent",
    Role.APPROVER: "Freigebende",
    Role.LEAD: "Lead",
    Role.ADMIN: "Admin",
}


def _role(user: UserRecord, needed: Role, what: str) -> Decision:
    """Allowed when the user is active and holds `needed` or a higher role."""
    if not user.active:
        return deny("Dieses Konto ist deaktiviert.")
    if not Role(user.role).at_least(needed):
        higher = [name for role, name in _ROLE_NAMES.items() if role.at_least(needed)]
        return deny(f"{what} dürfen nur: {', '.join(higher)}.")
    return ALLOW


def _both(first: Decision, second: Decision) -> Decision:
    return first if not first else second


def can_view(user: UserRecord, item: QueueItem) -> Decision:
    """Brand scope: a user limited to some brands sees nothing of the others."""
    if not user.active:
        return deny("Dieses Konto ist deaktiviert.")
    if not can_see_brand(user, item.brand):
        return deny("Dieser Eintrag gehört zu einer Marke außerhalb Ihres Bereichs.")
    return ALLOW


def can_work_on(user: UserRecord, item: QueueItem) -> Decision:
    """Change an item's status or draft for it: its assignee or anyone while it is unassigned;
    approvers and above may step in on a colleague's item."""
    seen = can_view(user, item)
    if not seen or item.assignee_id in (None, user.id):
        return seen
    return _role(user, Role.APPROVER, "Einträge anderer bearbeiten")


def can_assign(user: UserRecord, item: QueueItem, assignee: UserRecord) -> Decision:
    """Taking an unassigned item for oneself is everyone's; giving it to someone else, or
    taking it from someone, is for approvers and above. The assignee must see the brand."""
    seen = can_view(user, item)
    if not seen:
        return seen
    if not assignee.active or not can_see_brand(assignee, item.brand):
        return deny(f"{assignee.name} kann diesen Eintrag nicht bearbeiten (Konto oder Marke).")
    if assignee.id == user.id and item.assignee_id in (None, user.id):
        return ALLOW
    return _role(user, Role.APPROVER, "Einträge anderen zuweisen oder abnehmen")


def can_draft(user: UserRecord, item: QueueItem) -> Decision:
    return can_work_on(user, item)


def can_approve(user: UserRecord, item: QueueItem, draft: DraftRecord) -> Decision:
    """Four-eyes: an approver, lead or admin who did not write the draft."""
    allowed = _both(can_view(user, item), _role(user, Role.APPROVER, "Antworten freigeben"))
    if allowed and draft.author_id == user.id:
        return deny("Vier-Augen-Prinzip: Eigene Entwürfe kann nur eine andere Person freigeben.")
    return allowed


def can_reject(user: UserRecord, item: QueueItem, draft: DraftRecord) -> Decision:
    """Sending a draft back is the approver's part of four-eyes, so the same rule holds."""
    return can_approve(user, item, draft)


def can_override_block(user: UserRecord, reason: str | None) -> Decision:
    """A blocking draft-check finding yields only to a lead or admin, with a written reason."""
    allowed = _role(user, Role.LEAD, "Blockierende Hinweise übergehen")
    if allowed and not (reason or "").strip():
        return deny("Zum Übergehen eines blockierenden Hinweises ist eine Begründung nötig.")
    return allowed


def can_transition(user: UserRecord, item: QueueItem, target: QueueStatus) -> Decision:
    """Status changes by hand; deletion is only ever what the platform reports."""
    if target is QueueStatus.DELETED:
        return deny("Gelöscht wird ein Eintrag nur, wenn der Beitrag auf der Plattform fehlt.")
    return can_work_on(user, item)


def can_send(user: UserRecord, item: QueueItem) -> Decision:
    """Sending an approved reply (or recording it as sent by hand)."""
    return can_work_on(user, item)


def can_label(user: UserRecord, item: QueueItem) -> Decision:
    """Every team member who sees an item may correct what the models said about it."""
    return can_view(user, item)


def can_bulk(user: UserRecord) -> Decision:
    """Acting on many items at once; each item is still checked on its own."""
    return _role(user, Role.APPROVER, "Sammelaktionen")


def can_edit_saved_replies(user: UserRecord) -> Decision:
    return _role(user, Role.LEAD, "Textbausteine und Playbook-Notizen bearbeiten")


def can_edit_reply(user: UserRecord, brand: str | None) -> Decision:
    """A lead's saved reply for `brand` (None: every brand): a lead limited to some brands
    edits only theirs, since a reply for every brand reaches the others too."""
    allowed = can_edit_saved_replies(user)
    if allowed and user.brands is not None and (brand is None or brand not in user.brands):
        return deny(
            "Textbausteine dieser Marke (oder aller Marken) gehören nicht zu Ihrem Bereich."
        )
    return allowed


def can_edit_playbook_notes(user: UserRecord) -> Decision:
    """A playbook note shows on every brand's items, so, like a saved reply for every brand,
    it is for leads without a brand scope."""
    allowed = can_edit_saved_replies(user)
    if allowed and user.brands is not None:
        return deny("Playbook-Notizen gelten für alle Marken und damit nicht nur Ihren Bereich.")
    return allowed


def can_manage_users(user: UserRecord) -> Decision:
    return _role(user, Role.ADMIN, "Benutzer verwalten")


def can_view_alerts(user: UserRecord) -> Decision:
    """Every active team member sees the alerts of their brands (a scoped user only those:
    `monitor.alerts.queries` filters by `user.brands`)."""
    if not user.active:
        return deny("Dieses Konto ist deaktiviert.")
    return ALLOW
