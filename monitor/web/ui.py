"""The German web pages: login and logout, the queue and its bulk actions (the item page is in
`items`, the lead's and admin's pages in `admin`). Thin handlers: load (through `views`) →
authorize → operate → render or redirect."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from classifiers.triage import ACTION_NAMES, CATEGORY_NAMES
from monitor.access.policies import (
    authorize,
    can_bulk,
    can_edit_playbook_notes,
    can_edit_saved_replies,
    can_manage_users,
)
from monitor.access.sessions import end_all_sessions, end_session, renew_session, start_session
from monitor.access.users import authenticate
from monitor.queue import QueueFilter, count_items, item_summary
from monitor.queue.assignment import set_shift
from monitor.queue.bulk import BulkAction
from monitor.queue.presence import present_on
from monitor.queue.states import EscalationTeam
from monitor.queue.workflow import WorkflowError
from monitor.storage.models import WebSession
from monitor.web.deps import (
    MAX_ID,
    SESSION_COOKIE,
    BrowserSession,
    CheckedSession,
    CurrentUser,
    DbSession,
    FilterZone,
    LoggedIn,
    MemberForm,
    get_runtime,
    set_session_cookie,
)
from monitor.web.filters import (
    DAYS,
    FIELDS,
    LABELS,
    FilterError,
    chosen,
    parse_filter,
    query_string,
)
from monitor.web.formatting import (
    BAND_NAMES,
    PLATFORM_NAMES,
    RECHECK_NAMES,
    SLA_NAMES,
    SORT_NAMES,
    STATUS_NAMES,
)
from monitor.web.throttle import ADDRESS_FAILURE_LIMIT, FAILURE_LIMIT, LoginThrottle
from monitor.web.views import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    QueuePage,
    alert_banner,
    brand_choices,
    bulk_on,
    colleagues,
    queue_page,
)

router = APIRouter()

LOGIN_FAILED = "Benutzername oder Passwort falsch."
TOO_MANY_FAILURES = "Zu viele fehlgeschlagene Anmeldungen. Bitte in 15 Minuten erneut versuchen."


def render(
    request: Request, name: str, browser: WebSession, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page with what every page needs: the user, the CSRF token for its forms, which
    pages their menu offers and the open alerts of their brands (the banner)."""
    templates: Jinja2Templates = request.app.state.templates
    user = browser.user
    menu = {
        "may_edit_replies": user is not None and bool(can_edit_saved_replies(user)),
        "may_edit_notes": user is not None and bool(can_edit_playbook_notes(user)),
        "may_manage_users": user is not None and bool(can_manage_users(user)),
    }
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "csrf_token": browser.csrf_token,
            "open_alerts": alert_banner(browser),
            **menu,
            **context,
        },
        status_code=status_code,
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def local_path(target: str) -> str:
    """`target` if it is a path on this site, else the queue: no redirects to other hosts."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, session: DbSession, browser: BrowserSession, next: str = "/"
) -> Response:
    if browser is not None and browser.user is not None:
        return redirect(local_path(next))
    raw_id = None
    if browser is None:  # the login form's CSRF token needs a session to be bound to
        raw_id, browser = start_session(session)
    response = render(request, "login.html", browser, next=local_path(next))
    if raw_id is not None:
        set_session_cookie(response, request, raw_id)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    browser: CheckedSession,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password unless the name or address failed too often; on success the
    browser gets a new session id."""
    throttle: LoginThrottle = request.app.state.throttle
    name_key = f"user:{username.strip().casefold()}"
    address_key = f"address:{request.client.host if request.client else '-'}"
    if throttle.blocked(name_key, FAILURE_LIMIT) or throttle.blocked(
        address_key, ADDRESS_FAILURE_LIMIT
    ):
        return render(
            request, "login.html", browser, 429, error=TOO_MANY_FAILURES, next=local_path(next)
        )
    user = authenticate(session, username.strip(), password)
    if user is None:
        throttle.record_failure(name_key)
        throttle.record_failure(address_key)
        return render(
            request, "login.html", browser, 401, error=LOGIN_FAILED, next=local_path(next)
        )
    throttle.clear(name_key)
    response = redirect(local_path(next))
    set_session_cookie(response, request, renew_session(session, browser, user))
    return response


def logged_out() -> Response:
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(session: DbSession, browser: CheckedSession) -> Response:
    end_session(session, browser)
    return logged_out()


@router.post("/logout/all")
def logout_everywhere(session: DbSession, browser: CheckedSession) -> Response:
    """End every session of the user, this browser's included (a lost laptop, a shared PC)."""
    if browser.user is None:
        end_session(session, browser)
    else:
        end_all_sessions(session, browser.user)
    return logged_out()


SHIFT_ACTIONS = {"start": True, "end": False}
"""The header's shift button: `start` begins the user's shift, `end` ends it."""


@router.post("/shift")
def shift(
    session: DbSession,
    browser: MemberForm,
    action: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Begin or end the user's shift (automatic assignment hands items only to those on
    shift), then back to the page the button was on."""
    assert browser.user is not None  # MemberForm made sure
    if action not in SHIFT_ACTIONS:
        raise HTTPException(400, "Bitte „Schicht beginnen“ oder „Schicht beenden“ wählen.")
    set_shift(session, browser.user, SHIFT_ACTIONS[action])
    return redirect(local_path(next))


FILTER_CHOICES = {
    "platform": PLATFORM_NAMES,
    "status": STATUS_NAMES,
    "category": CATEGORY_NAMES,
    "action": ACTION_NAMES,
    "band": BAND_NAMES,
    "sla": SLA_NAMES,
    "recheck": RECHECK_NAMES,
}
"""The filter bar's select boxes with a fixed set of values, by parameter, with German names."""


@router.get("/", response_class=HTMLResponse)
def queue(
    request: Request,
    session: DbSession,
    browser: LoggedIn,
    user: CurrentUser,
    zone: FilterZone,
    page: Annotated[int, Query(ge=1, le=10**6)] = 1,
) -> Response:
    """The queue with the filters of the URL; a filter value that means nothing shows the
    page with a message naming it and no items."""
    values = chosen(request.query_params)
    error = None
    try:
        query = parse_filter(session, user, values, zone)
        shown = queue_page(session, query, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    except FilterError as exc:
        error, shown = str(exc), QueuePage([], 0, PAGE_SIZE, 0)
    configured = [b.name for b in get_runtime(request).settings.brands]
    return render(
        request,
        "queue.html",
        browser,
        400 if error else 200,
        error=error,
        page=shown,
        rows=[(item, item_summary(item)) for item in shown.items],
        present=present_on(session, [item.id for item in shown.items]),
        can_bulk=bool(can_bulk(user)),
        bulk_actions=BULK_ACTIONS,
        teams=list(EscalationTeam),
        colleagues=colleagues(session),
        page_number=page,
        filters={name: values.get(name, "") for name in FIELDS},
        filter_query=query_string(values),
        without_days=query_string({k: v for k, v in values.items() if k not in DAYS}),
        days=DAYS,
        zone=zone.key,
        labels=LABELS,
        choices=FILTER_CHOICES,
        sort_names=SORT_NAMES,
        brands=brand_choices(user, configured),
        scoped=user.brands is not None,
    )


FILTER_SCOPE = "filter"
"""The bulk form's `scope` for "every item the filters match" instead of the checked rows."""
BULK_ACTIONS = {
    BulkAction.ASSIGN: "Zuweisen an …",
    BulkAction.RESOLVE: "Erledigt",
    BulkAction.DISMISS: "Verwerfen (mit Grund)",
    BulkAction.MARK_TROLL: "Als Troll ignorieren",
    BulkAction.ESCALATE: "Eskalieren (Team und Notiz)",
}


def selected_items(selected: list[str]) -> dict[int, int]:
    """The checked rows (`ID:VERSION`): each item's id and the version the row showed."""
    versions = {}
    for value in selected:
        item_id, _, version = value.partition(":")
        if not (item_id.isdigit() and version.isdigit()):
            raise HTTPException(400, f"Ungültige Auswahl „{value}“.")
        versions[int(item_id)] = int(version)
    return versions


@router.post("/bulk", response_class=HTMLResponse)
def bulk_action(
    request: Request,
    session: DbSession,
    browser: MemberForm,
    zone: FilterZone,
    action: Annotated[str, Form(max_length=16)] = "",
    selected: Annotated[list[str], Form(max_length=MAX_PAGE_SIZE)] = [],  # noqa: B006
    scope: Annotated[str, Form(max_length=16)] = "",
    confirmed: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None,
    assignee: Annotated[str, Form(max_length=64)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    team: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """One action on the checked rows, or (`scope=filter`) on every item the filters in the
    URL match: that first asks to confirm the number of items, and asks again if the number
    changed meanwhile. The page then lists what happened to each item."""
    user = browser.user
    assert user is not None  # MemberForm made sure
    if action not in set(BulkAction):
        raise HTTPException(400, "Bitte eine Sammelaktion wählen.")
    authorize(can_bulk(user))  # before the confirmation tells a count
    selection: list[int] | QueueFilter
    try:
        if scope == FILTER_SCOPE:
            values = chosen(request.query_params)
            selection, versions = parse_filter(session, user, values, zone), {}
            matches = count_items(session, selection)
            if confirmed != matches:
                return render(
                    request,
                    "bulk_confirm.html",
                    browser,
                    action=action,
                    action_name=BULK_ACTIONS[action],
                    count=matches,
                    filter_query=query_string(values),
                    fields={"assignee": assignee, "comment": comment, "team": team},
                )
        elif selected:
            versions = selected_items(selected)
            selection = list(versions)
        else:
            raise HTTPException(400, "Bitte zuerst Einträge auswählen (Taste x).")
        results = bulk_on(
            session, user, action, selection, versions, assignee, comment or None, team
        )
    except (FilterError, WorkflowError) as exc:
        raise HTTPException(400, str(exc)) from exc
    return render(request, "bulk_done.html", browser, results=results, action=BULK_ACTIONS[action])
