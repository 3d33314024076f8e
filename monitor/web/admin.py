"""The leads' and admins' pages: saved replies, playbook notes and user accounts. Thin handlers:
load → the operation, which asks the policy → redirect, or the form again with the German
reason. A refused role gets the 403 page (the app's `PermissionDenied` handler)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from monitor.access import admin, policies
from monitor.access.policies import authorize
from monitor.access.roles import Role
from monitor.access.users import UserError
from monitor.guidance.notes import NoteError, playbook_notes, set_playbook_note
from monitor.guidance.playbooks import Category, playbook_for
from monitor.guidance.replies import ReplyError, delete_reply, save_reply
from monitor.guidance.templates import PLACEHOLDERS
from monitor.guidance.tone import Tone
from monitor.storage.models import SavedReply, UserRecord, WebSession
from monitor.web.deps import MAX_ID, CurrentUser, DbSession, LoggedIn, MemberForm
from monitor.web.ui import redirect, render
from monitor.web.views import visible_replies, visible_reply

router = APIRouter()

Text = Annotated[str, Form(max_length=10_000)]
Short = Annotated[str, Form(max_length=200)]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]

SAVED = {
    "reply": "Textbaustein gespeichert.",
    "deleted": "Textbaustein gelöscht.",
    "note": "Playbook-Notiz gespeichert.",
    "user": "Konto angelegt.",
    "deactivated": "Konto deaktiviert; seine Sitzungen und Tokens sind beendet.",
    "password": "Passwort gesetzt; die Sitzungen des Kontos sind beendet.",
    "tokens": "API-Tokens widerrufen.",
}
"""The confirmation after a redirect (`?done=KEY`): fixed texts, nothing from the URL."""


def member(browser: WebSession) -> UserRecord:
    assert browser.user is not None  # LoggedIn / MemberForm made sure
    return browser.user


def form_page(
    request: Request,
    browser: WebSession,
    name: str,
    error: str | None = None,
    done: str = "",
    **context: object,
) -> HTMLResponse:
    """One of these pages with its forms: 400 with the German reason after a refused form,
    else 200 with the confirmation of what the last form did."""
    status = 400 if error else 200
    return render(request, name, browser, status, error=error, done=SAVED.get(done), **context)


def attempt(
    session: Session,
    change: Callable[[], object],
    refused: type[Exception],
    show_again: Callable[[str], Response],
    done: str,
) -> Response:
    """A lead's or admin's change in a savepoint: refused, it leaves nothing behind and its
    form comes back with the German reason; made, the browser goes on to `done`."""
    try:
        with session.begin_nested():
            change()
    except refused as exc:
        return show_again(str(exc))
    return redirect(done)


# --- saved replies ----------------------------------------------------------------------------


@router.get("/replies", response_class=HTMLResponse)
def replies(
    request: Request, session: DbSession, browser: LoggedIn, user: CurrentUser, done: str = ""
) -> Response:
    authorize(policies.can_edit_saved_replies(user))
    shown = visible_replies(session, user, brand=None, category=None)
    return form_page(request, browser, "replies.html", done=done, replies=shown)


def reply_form(
    request: Request,
    browser: WebSession,
    reply: SavedReply | None,
    values: dict[str, str],
    error: str | None = None,
) -> HTMLResponse:
    return form_page(
        request,
        browser,
        "reply_edit.html",
        error,
        reply=reply,
        values=values,
        categories=list(Category),
        tones=list(Tone),
        placeholders=PLACEHOLDERS,
    )


def stored_values(reply: SavedReply | None) -> dict[str, str]:
    if reply is None:
        return {
            "title": "",
            "body": "",
            "category": Category.COMPLAINT,
            "tone": Tone.SIE,
            "brand": "",
        }
    return {
        "title": reply.title,
        "body": reply.body,
        "category": reply.category,
        "tone": reply.tone,
        "brand": reply.brand or "",
    }


@router.get("/replies/new", response_class=HTMLResponse)
def new_reply(request: Request, browser: LoggedIn, user: CurrentUser) -> Response:
    authorize(policies.can_edit_saved_replies(user))
    return reply_form(request, browser, None, stored_values(None))


@router.get("/replies/{reply_id}", response_class=HTMLResponse)
def edit_reply(
    request: Request, reply_id: RecordId, session: DbSession, browser: LoggedIn, user: CurrentUser
) -> Response:
    authorize(policies.can_edit_saved_replies(user))
    reply = visible_reply(session, user, reply_id)
    return reply_form(request, browser, reply, stored_values(reply))


def reply_fields(
    title: Short = "", body: Text = "", category: Short = "", tone: Short = "", brand: Short = ""
) -> dict[str, str]:
    """The saved-reply form's fields, as `save_reply` takes them."""
    return {"title": title, "body": body, "category": category, "tone": tone, "brand": brand}


ReplyFields = Annotated[dict[str, str], Depends(reply_fields)]


def store_reply(
    request: Request,
    session: Session,
    browser: WebSession,
    reply: SavedReply | None,
    values: dict[str, str],
) -> Response:
    return attempt(
        session,
        lambda: save_reply(session, member(browser), reply, **values),
        ReplyError,
        lambda error: reply_form(request, browser, reply, values, error),
        "/replies?done=reply",
    )


@router.post("/replies/new")
def create_reply(
    request: Request,
    session: DbSession,
    browser: MemberForm,
    values: ReplyFields,
) -> Response:
    return store_reply(request, session, browser, None, values)


@router.post("/replies/{reply_id}")
def update_reply(
    request: Request,
    reply_id: RecordId,
    session: DbSession,
    browser: MemberForm,
    values: ReplyFields,
) -> Response:
    return store_reply(
        request, session, browser, visible_reply(session, member(browser), reply_id), values
    )


@router.post("/replies/{reply_id}/delete")
def remove_reply(reply_id: RecordId, session: DbSession, browser: MemberForm) -> Response:
    user = member(browser)
    delete_reply(session, user, visible_reply(session, user, reply_id))
    return redirect("/replies?done=deleted")


# --- playbook notes ---------------------------------------------------------------------------


def notes_page(
    request: Request,
    session: Session,
    browser: WebSession,
    error: str | None = None,
    done: str = "",
) -> HTMLResponse:
    playbooks = [playbook_for(category) for category in Category]
    notes = playbook_notes(session)
    return form_page(
        request, browser, "playbooks.html", error, done, playbooks=playbooks, notes=notes
    )


@router.get("/playbooks", response_class=HTMLResponse)
def playbooks(
    request: Request, session: DbSession, browser: LoggedIn, user: CurrentUser, done: str = ""
) -> Response:
    authorize(policies.can_edit_playbook_notes(user))
    return notes_page(request, session, browser, done=done)


@router.post("/playbooks/{category}")
def save_note(
    request: Request,
    category: Annotated[str, Path(max_length=32)],
    session: DbSession,
    browser: MemberForm,
    note: Text = "",
) -> Response:
    return attempt(
        session,
        lambda: set_playbook_note(session, member(browser), category, note),
        NoteError,
        lambda error: notes_page(request, session, browser, error),
        "/playbooks?done=note",
    )


# --- users ------------------------------------------------------------------------------------


def users_page(
    request: Request,
    session: Session,
    browser: WebSession,
    error: str | None = None,
    done: str = "",
) -> HTMLResponse:
    users = admin.all_users(session)
    return form_page(request, browser, "users.html", error, done, users=users, roles=list(Role))


def user_or_404(session: Session, user_id: int) -> UserRecord:
    user = session.get(UserRecord, user_id)
    if user is None:
        raise HTTPException(404)
    return user


@router.get("/users", response_class=HTMLResponse)
def users(
    request: Request, session: DbSession, browser: LoggedIn, user: CurrentUser, done: str = ""
) -> Response:
    authorize(policies.can_manage_users(user))
    return users_page(request, session, browser, done=done)


@router.post("/users")
def add_member(
    request: Request,
    session: DbSession,
    browser: MemberForm,
    name: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    brands: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A new account; brands as a comma-separated list, empty for every brand."""
    scope = [b.strip() for b in brands.split(",") if b.strip()] or None
    return attempt(
        session,
        lambda: admin.create_member(session, member(browser), name.strip(), role, password, scope),
        UserError,
        lambda error: users_page(request, session, browser, error),
        "/users?done=user",
    )


@router.post("/users/{user_id}/deactivate")
def deactivate(user_id: RecordId, session: DbSession, browser: MemberForm) -> Response:
    admin.deactivate(session, member(browser), user_or_404(session, user_id))
    return redirect("/users?done=deactivated")


@router.post("/users/{user_id}/password")
def reset_password(
    request: Request,
    user_id: RecordId,
    session: DbSession,
    browser: MemberForm,
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    target = user_or_404(session, user_id)
    return attempt(
        session,
        lambda: admin.reset_password(session, member(browser), target, password),
        UserError,
        lambda error: users_page(request, session, browser, error),
        "/users?done=password",
    )


@router.post("/users/{user_id}/tokens/revoke")
def revoke_tokens(user_id: RecordId, session: DbSession, browser: MemberForm) -> Response:
    admin.revoke_api_tokens(session, member(browser), user_or_404(session, user_id))
    return redirect("/users?done=tokens")
