"""The item page and its forms: taking, assigning, drafting with the live draft check, four-eyes
approval, sending, status changes and reviewer labels. Thin handlers: load (through `views`) →
the workflow operation, which asks the policy → redirect, or the page again with the German
reason when the operation refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from monitor.access import policies
from monitor.access.policies import Decision, PermissionDenied
from monitor.access.users import find_user
from monitor.guidance.item import item_guidance
from monitor.guidance.notes import playbook_note
from monitor.guidance.playbooks import REPLY_POLICY_TEXT
from monitor.guidance.replies import filled_reply
from monitor.queue import drafts, labels, presence, workflow
from monitor.queue.audit import audit_trail
from monitor.queue.drafts import DraftStatus, SendMode, blocking_rules, current_draft
from monitor.queue.states import EscalationTeam, QueueStatus, can_move
from monitor.queue.workflow import StaleItemError, WorkflowError
from monitor.sources import posts_replies
from monitor.storage.models import DraftRecord, QueueItem, SavedReply, UserRecord, WebSession
from monitor.web.deps import CurrentUser, DbSession, ItemId, LoggedIn, MemberForm, get_runtime
from monitor.web.ui import local_path, redirect, render
from monitor.web.views import (
    NotFound,
    author_history,
    colleagues_for,
    item_details,
    item_labels,
    parent_post,
    returned_draft,
    visible_item,
    visible_reply,
)

router = APIRouter()

Version = Annotated[int, Form(ge=1, le=2**31 - 1)]
Comment = Annotated[str, Form(max_length=4000)]
MAX_REPLY = 10_000

DONE = {
    "take": "Sie bearbeiten diesen Eintrag jetzt.",
    "assign": "Eintrag zugewiesen.",
    "draft": "Entwurf gespeichert.",
    "submit": "Antwort zur Freigabe gegeben.",
    "approve": "Antwort freigegeben.",
    "reject": "Antwort mit Notiz zurückgegeben.",
    "send": "Antwort als gesendet vermerkt.",
    "transition": "Status geändert.",
    "label": "Bewertung gespeichert.",
}
"""The confirmation shown after a redirect (`?done=KEY`): fixed texts, nothing from the URL."""

BUTTONS = {
    QueueStatus.RESOLVED: "Erledigt",
    QueueStatus.MONITOR: "Beobachten",
    QueueStatus.IGNORED_TROLL: "Troll ignorieren",
    QueueStatus.NEW: "Wieder öffnen",
}
"""The status changes the item page offers as plain buttons; dismissing and escalating have
forms of their own (reason, team and note)."""
MANUAL_TARGETS = (*BUTTONS, QueueStatus.DISMISSED, QueueStatus.ESCALATED)

OVERRIDE_PROBE = "?"
"""A stand-in reason: asks the policy whether the user could override with a written one."""


def placeholder_values(item: QueueItem, user: UserRecord) -> dict[str, str]:
    """What the saved replies' placeholders are filled with on this item."""
    author = item.post.author
    name = (author.display_name or author.handle) if author else ""
    return {"name": name, "brand": item.brand, "agent": user.name, "ticket": f"RW-{item.id}"}


def allowed_targets(user: UserRecord, item: QueueItem) -> list[QueueStatus]:
    return [
        target
        for target in MANUAL_TARGETS
        if can_move(item.status, target) and policies.can_transition(user, item, target)
    ]


def button_label(target: QueueStatus, item: QueueItem) -> str:
    """An item in progress goes back to the pool; a closed one is reopened."""
    if target is QueueStatus.NEW and item.status in workflow.OPEN_DRAFT_STATES:
        return "Zurückgeben"
    return BUTTONS[target]


def approval_decision(user: UserRecord, item: QueueItem, draft: DraftRecord) -> Decision:
    """Whether the approve button works for `user`, with the reason shown when it does not."""
    decision = policies.can_approve(user, item, draft)
    if decision and blocking_rules(draft):
        return policies.can_override_block(user, OVERRIDE_PROBE)
    return decision


def item_context(
    session: Session, request: Request, user: UserRecord, item: QueueItem
) -> dict[str, Any]:
    """Everything the item page shows, and which of its buttons work for `user` (the server
    checks again on every form)."""
    guidance = item_guidance(session, item, get_runtime(request).settings.brands)
    draft = current_draft(session, item)
    values = placeholder_values(item, user)
    colleagues = [c for c in colleagues_for(session, item) if c.id != user.id]
    submitted = draft is not None and draft.status == DraftStatus.SUBMITTED
    targets = allowed_targets(user, item)
    return {
        "item": item,
        "details": item_details(item),
        "guidance": guidance,
        "reply_policy": REPLY_POLICY_TEXT[guidance.playbook.reply],
        "team_note": playbook_note(session, guidance.category),
        "replies": [(reply, filled_reply(reply, values)) for reply in guidance.replies],
        "draft": draft,
        "returned": returned_draft(session, item) if draft is None else None,
        "blocking": blocking_rules(draft) if draft else [],
        "present": [name for name in presence.present(session, item) if name != user.name],
        "audit": audit_trail(session, item),
        "history": author_history(session, item),
        "parent": parent_post(session, item),
        "labels": item_labels(session, item),
        "label_choices": labels.CHOICES,
        "teams": list(EscalationTeam),
        "targets": targets,
        "buttons": [
            (target, button_label(target, item)) for target in BUTTONS if target in targets
        ],
        "can_take": item.assignee_id != user.id
        and can_move(item.status, QueueStatus.ASSIGNED)
        and bool(policies.can_assign(user, item, user)),
        "assignable": [c for c in colleagues if policies.can_assign(user, item, c)],
        "can_draft": item.status in (QueueStatus.NEW, *workflow.OPEN_DRAFT_STATES)
        and bool(policies.can_draft(user, item)),
        "approval": approval_decision(user, item, draft) if submitted else None,
        "can_reject": submitted and bool(policies.can_reject(user, item, draft)),
        "can_send": draft is not None
        and draft.status == DraftStatus.APPROVED
        and bool(policies.can_send(user, item)),
        "can_post": posts_replies(get_runtime(request).settings, item.post.source),
    }


def show_item(
    request: Request,
    session: Session,
    browser: WebSession,
    item_id: int,
    error: str | None = None,
    status_code: int = 200,
    done: str = "",
) -> HTMLResponse:
    assert browser.user is not None
    item = visible_item(session, browser.user, item_id)
    context = item_context(session, request, browser.user, item)
    return render(
        request, "item.html", browser, status_code, error=error, done=DONE.get(done), **context
    )


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: LoggedIn,
    user: CurrentUser,
    done: str = "",
) -> Response:
    presence.touch(session, user, visible_item(session, user, item_id))
    return show_item(request, session, browser, item_id, done=done)


Operation = Callable[[UserRecord, QueueItem], object]


def act(
    request: Request,
    session: Session,
    browser: WebSession,
    item_id: int,
    operation: Operation,
    done: str,
    next_page: str = "",
) -> Response:
    """Run `operation` in a savepoint; on success go back to the page (or `next_page`), else
    show the item as it stands now with the German reason."""
    user = browser.user
    assert user is not None  # MemberForm made sure
    item = visible_item(session, user, item_id)
    try:
        with session.begin_nested():
            operation(user, item)
    except StaleItemError as exc:
        return show_item(request, session, browser, item_id, str(exc), 409)
    except PermissionDenied as exc:
        return show_item(request, session, browser, item_id, str(exc), 403)
    except NotFound as exc:  # a saved reply outside the user's brands
        return show_item(request, session, browser, item_id, str(exc), 404)
    except ValueError as exc:  # WorkflowError, TransitionError, TemplateError
        return show_item(request, session, browser, item_id, str(exc), 400)
    if next_page:
        return redirect(local_path(next_page))
    return redirect(f"/items/{item_id}?done={done}")


@router.post("/items/{item_id}/take")
def take(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    version: Version,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def operation(user: UserRecord, item: QueueItem) -> None:
        workflow.take(session, user, item, version)

    return act(request, session, browser, item_id, operation, "take", next)


@router.post("/items/{item_id}/assign")
def assign(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    version: Version,
    assignee: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def operation(user: UserRecord, item: QueueItem) -> None:
        colleague = find_user(session, assignee)
        if colleague is None:
            raise WorkflowError(f"Unbekannte Person „{assignee}“.")
        workflow.assign(session, user, item, version, colleague)

    return act(request, session, browser, item_id, operation, "assign")


def chosen_reply(session: Session, user: UserRecord, reply_id: int | None) -> SavedReply | None:
    """The saved reply the editor started from, if any, within the user's brands."""
    return visible_reply(session, user, reply_id) if reply_id is not None else None


@router.post("/items/{item_id}/draft")
def save_draft(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    version: Version,
    text: Annotated[str, Form(max_length=MAX_REPLY)] = "",
    saved_reply_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    for_approval: Annotated[bool, Form()] = False,
) -> Response:
    """Save the reply; the button pressed says whether it goes to approval too."""
    checker = get_runtime(request).draft_checker

    def operation(user: UserRecord, item: QueueItem) -> None:
        reply = chosen_reply(session, user, saved_reply_id)
        drafts.save_draft(session, user, item, version, text, checker, reply, for_approval)

    return act(request, session, browser, item_id, operation, "submit" if for_approval else "draft")


@router.post("/items/{item_id}/check")
def check_draft(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    text: Annotated[str, Form(max_length=MAX_REPLY)] = "",
    saved_reply_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> JSONResponse:
    """The draft checker's findings on the text being typed (the editor asks as one types)."""
    assert browser.user is not None
    item = visible_item(session, browser.user, item_id)
    reply = chosen_reply(session, browser.user, saved_reply_id)
    checker = get_runtime(request).draft_checker
    template = reply.body if reply else None
    findings = checker.findings(session, item, text, template) if text.strip() else []
    return JSONResponse({"findings": findings})


@router.post("/items/{item_id}/presence", status_code=204)
def still_here(item_id: ItemId, session: DbSession, browser: MemberForm) -> Response:
    """The open item page reports every minute that its user still has the item open."""
    assert browser.user is not None
    presence.touch(session, browser.user, visible_item(session, browser.user, item_id))
    return Response(status_code=204)


@router.post("/items/{item_id}/approve")
def approve(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    version: Version,
    override_reason: Comment = "",
) -> Response:
    def operation(user: UserRecord, item: QueueItem) -> None:
        drafts.approve(session, user, item, version, override_reason or None)

    return act(request, session, browser, item_id, operation, "approve")


@router.post("/items/{item_id}/reject")
def reject(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    version: Version,
    note: Comment = "",
) -> Response:
    def operation(user: UserRecord, item: QueueItem) -> None:
        drafts.reject(session, user, item, version, note)

    return act(request, session, browser, item_id, operation, "reject")


@router.post("/items/{item_id}/send")
def mark_sent(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    version: Version,
    mode: Annotated[str, Form(max_length=16)] = SendMode.DRY_RUN.value,
    link: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    publishers = get_runtime(request).reply_publisher

    def operation(user: UserRecord, item: QueueItem) -> None:
        if mode not in set(SendMode):
            raise WorkflowError("Bitte „Posten“, „Probelauf“ oder „von Hand gesendet“ wählen.")
        drafts.mark_replied(session, user, item, version, mode, link.strip() or None, publishers)

    return act(request, session, browser, item_id, operation, "send")


@router.post("/items/{item_id}/transition")
def change_status(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    version: Version,
    to: Annotated[str, Form(max_length=32)] = "",
    comment: Comment = "",
    team: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    def operation(user: UserRecord, item: QueueItem) -> None:
        if to not in set(QueueStatus):
            raise WorkflowError(f"Unbekannter Status „{to}“.")
        workflow.transition(session, user, item, version, to, comment or None, team or None)

    return act(request, session, browser, item_id, operation, "transition")


@router.post("/items/{item_id}/labels")
def add_label(
    request: Request,
    item_id: ItemId,
    session: DbSession,
    browser: MemberForm,
    task: Annotated[str, Form(max_length=32)] = "",
    label: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def operation(user: UserRecord, item: QueueItem) -> None:
        labels.add_label(session, user, item, task, label)

    return act(request, session, browser, item_id, operation, "label")
