"""The REST API under /api/v1: thin handlers (load through `views` → operation, which asks the
policy → response). No handler writes to storage itself; every change is a domain operation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from monitor.access import policies
from monitor.access.policies import authorize
from monitor.access.users import add_user, find_user
from monitor.alerts.queries import alert_summary
from monitor.guidance.playbooks import Category
from monitor.guidance.replies import save_reply
from monitor.queue import drafts, workflow
from monitor.queue.assignment import set_shift
from monitor.queue.audit import audit_trail
from monitor.queue.labels import add_label
from monitor.storage.models import DraftRecord, QueueItem, UserRecord
from monitor.web.deps import MAX_ID, ApiUser, DbSession, FilterZone, ItemId, get_runtime
from monitor.web.filters import FIELDS, parse_filter
from monitor.web.schemas import (
    MAX_OFFSET,
    AlertPageOut,
    ApproveIn,
    AssignIn,
    AuditOut,
    BulkIn,
    BulkOut,
    DraftIn,
    DraftOut,
    DraftResultOut,
    ErrorOut,
    ItemDetailOut,
    ItemOut,
    ItemPageOut,
    ItemQuery,
    LabelIn,
    LabelOut,
    RejectIn,
    SavedReplyIn,
    SavedReplyOut,
    SendIn,
    ShiftIn,
    StaleOut,
    TransitionIn,
    UserIn,
    UserOut,
)
from monitor.web.views import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    bulk_on,
    colleagues,
    item_details,
    item_drafts,
    item_row,
    named_user,
    queue_page,
    visible_alerts,
    visible_item,
    visible_replies,
    visible_reply,
    work_state,
)


class NameTaken(Exception):
    """A new account's name belongs to someone already (409)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Einen Benutzer „{name}“ gibt es schon.")


def draft_view(draft: DraftRecord) -> dict[str, Any]:
    return {
        "id": draft.id,
        "status": draft.status,
        "text": draft.text,
        "author": draft.author.name if draft.author is not None else None,
        "saved_reply_id": draft.saved_reply_id,
        "findings": draft.findings,
        "approver": draft.approver.name if draft.approver is not None else None,
        "note": draft.note,
        "override_reason": draft.override_reason,
        "sent_via": draft.sent_via,
        "sent_link": draft.sent_link,
    }


def draft_result(draft: DraftRecord, item: QueueItem) -> dict[str, Any]:
    """The draft after an operation, with the item as it now stands (its new version)."""
    return {"draft": draft_view(draft), "item": item_row(item)}


ReplyId = Annotated[int, Path(ge=1, le=MAX_ID, description="The saved reply's id.")]


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route answers besides 401 and 422."""
    meaning = {
        400: (ErrorOut, "The operation is not possible as asked (the message says why)."),
        403: (ErrorOut, "The caller's role or a rule (four-eyes) does not allow it."),
        404: (ErrorOut, "No such thing the caller may see."),
        409: (StaleOut, "Someone changed the item first; the body has its fresh state."),
    }
    return {
        status: {"model": meaning[status][0], "description": meaning[status][1]}
        for status in statuses
    }


ITEM_READ = documented(404)
ITEM_WRITE = documented(400, 403, 404, 409)


def query_names(dependant: Dependant) -> set[str]:
    """The query parameters of a route, its dependencies' and query models' included."""
    own = set()
    for param in dependant.query_params:
        model = param.field_info.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            own.update(field.alias or name for name, field in model.model_fields.items())
        else:
            own.add(param.alias)
    return own.union(*(query_names(inner) for inner in dependant.dependencies))


def known_parameters_only(request: Request) -> None:
    """Refuse query parameters the route does not have (422): a misspelt filter
    (`?stauts=new`) would otherwise be ignored and show everything."""
    known = query_names(request.scope["route"].dependant)
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise RequestValidationError(
            [{"loc": ("query", name), "msg": "unbekannter Parameter"} for name in unknown]
        )


router = APIRouter(
    dependencies=[Depends(known_parameters_only)],
    responses={
        401: {"model": ErrorOut, "description": "No valid bearer token."},
        422: {"model": ErrorOut, "description": "The request does not match its schema."},
    },
)


# --- items ------------------------------------------------------------------------------------


@router.get("/items", response_model=ItemPageOut)
def list_queue(
    user: ApiUser, session: DbSession, zone: FilterZone, query: Annotated[ItemQuery, Query()]
) -> dict[str, Any]:
    """Queue items within the caller's brands that match the filters, most urgent (or
    longest waiting) first, one page at a time."""
    chosen = parse_filter(session, user, query.model_dump(include=set(FIELDS)), zone)
    page = queue_page(session, chosen, query.limit, query.offset)
    items = [item_row(item) for item in page.items]
    return {"items": items, "total": page.total, "limit": page.limit, "offset": page.offset}


@router.get("/items/{item_id:int}", response_model=ItemDetailOut, responses=ITEM_READ)
def show_item(item_id: ItemId, user: ApiUser, session: DbSession) -> dict[str, Any]:
    """One item with author, metrics, matched terms, scores and the triage's reasons."""
    item = visible_item(session, user, item_id)
    return {**item_details(item), **work_state(item)}


@router.post("/items/{item_id:int}/assign", response_model=ItemOut, responses=ITEM_WRITE)
def assign(item_id: ItemId, body: AssignIn, user: ApiUser, session: DbSession) -> dict[str, Any]:
    """Give the item to a user; naming yourself takes it ("nehmen")."""
    item = visible_item(session, user, item_id)
    workflow.assign(session, user, item, body.version, named_user(session, body.user))
    return item_row(item)


@router.post("/items/{item_id:int}/draft", response_model=DraftResultOut, responses=ITEM_WRITE)
def draft(
    item_id: ItemId, body: DraftIn, user: ApiUser, session: DbSession, request: Request
) -> dict[str, Any]:
    """Save the reply with the draft checker's findings and, unless `submit` is false, hand it
    to a second person for approval."""
    item = visible_item(session, user, item_id)
    reply = visible_reply(session, user, body.saved_reply_id) if body.saved_reply_id else None
    checker = get_runtime(request).draft_checker
    saved = drafts.save_draft(
        session, user, item, body.version, body.text, checker, reply, body.submit
    )
    return draft_result(saved, item)


@router.post("/items/{item_id:int}/approve", response_model=DraftResultOut, responses=ITEM_WRITE)
def approve(item_id: ItemId, body: ApproveIn, user: ApiUser, session: DbSession) -> dict[str, Any]:
    """Four-eyes approval by someone other than the drafter; a blocking finding needs a
    lead's `override_reason`."""
    item = visible_item(session, user, item_id)
    approved = drafts.approve(session, user, item, body.version, body.override_reason)
    return draft_result(approved, item)


@router.post("/items/{item_id:int}/reject", response_model=DraftResultOut, responses=ITEM_WRITE)
def reject(item_id: ItemId, body: RejectIn, user: ApiUser, session: DbSession) -> dict[str, Any]:
    """Send the draft back to its writer with a note."""
    item = visible_item(session, user, item_id)
    return draft_result(drafts.reject(session, user, item, body.version, body.note), item)


@router.post("/items/{item_id:int}/send", response_model=DraftResultOut, responses=ITEM_WRITE)
def send(
    request: Request, item_id: ItemId, body: SendIn, user: ApiUser, session: DbSession
) -> dict[str, Any]:
    """Send the approved reply: a dry run (nothing posted), posted through the item's source,
    or recorded as posted by hand with the link to it."""
    item = visible_item(session, user, item_id)
    publishers = get_runtime(request).reply_publisher
    sent = drafts.mark_replied(session, user, item, body.version, body.mode, body.link, publishers)
    return draft_result(sent, item)


@router.post("/items/{item_id:int}/transition", response_model=ItemOut, responses=ITEM_WRITE)
def transition(
    item_id: ItemId, body: TransitionIn, user: ApiUser, session: DbSession
) -> dict[str, Any]:
    """Change the status by hand: release, reopen, resolve, dismiss (with a reason), ignore as
    a troll, watch, or escalate (with `team` and a note)."""
    item = visible_item(session, user, item_id)
    workflow.transition(session, user, item, body.version, body.to, body.comment, body.team)
    return item_row(item)


@router.post(
    "/items/{item_id:int}/labels", response_model=LabelOut, status_code=201, responses=ITEM_WRITE
)
def label(item_id: ItemId, body: LabelIn, user: ApiUser, session: DbSession) -> dict[str, Any]:
    """Confirm or correct what the models said (category, sentiment, offensive, troll, false
    positive)."""
    item = visible_item(session, user, item_id)
    entry = add_label(session, user, item, body.task, body.label)
    return {
        "id": entry.id,
        "task": entry.task,
        "label": entry.label,
        "model_label": entry.model_label,
        "model_version": entry.model_version,
        "reviewer": entry.reviewer_name,
    }


@router.get("/items/{item_id:int}/audit", response_model=list[AuditOut], responses=ITEM_READ)
def audit(item_id: ItemId, user: ApiUser, session: DbSession) -> list[Any]:
    """Everything done to the item, oldest first, with the actor's id and name."""
    return audit_trail(session, visible_item(session, user, item_id))


@router.get("/items/{item_id:int}/drafts", response_model=list[DraftOut], responses=ITEM_READ)
def draft_history(item_id: ItemId, user: ApiUser, session: DbSession) -> list[dict[str, Any]]:
    """Every reply drafted for the item, oldest first, with its findings and decision."""
    return [draft_view(d) for d in item_drafts(session, visible_item(session, user, item_id))]


@router.post("/items/bulk", response_model=BulkOut, responses=documented(400, 403))
def bulk_action(
    body: BulkIn, user: ApiUser, session: DbSession, zone: FilterZone
) -> dict[str, Any]:
    """One action on the items named by `ids` or matching `filter`; each is checked and
    reported on its own (ids the caller cannot see are reported as not found)."""
    selection = (
        parse_filter(session, user, vars(body.filter), zone) if body.filter else body.ids or []
    )
    results = bulk_on(
        session, user, body.action, selection, body.versions, body.assignee, body.comment, body.team
    )
    return {"results": [vars(result) for result in results]}


# --- alerts -----------------------------------------------------------------------------------


@router.get("/alerts", response_model=AlertPageOut)
def list_alerts(
    user: ApiUser,
    session: DbSession,
    open_only: Annotated[bool, Query(alias="open", description="Only alerts still open.")] = False,
    brand: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Spike, crisis and reach alerts of the caller's brands, open ones first, then the
    newest; each with its top posts and terms."""
    alerts = visible_alerts(session, user, open_only, limit, offset, brand)
    return {"alerts": [alert_summary(a) for a in alerts], "limit": limit, "offset": offset}


# --- users ------------------------------------------------------------------------------------


@router.get("/me", response_model=UserOut)
def me(user: ApiUser) -> UserRecord:
    """The caller's own account."""
    return user


@router.post("/me/shift", response_model=UserOut, responses=documented(400))
def change_shift(body: ShiftIn, user: ApiUser, session: DbSession) -> UserRecord:
    """Begin or end the caller's shift: automatic assignment hands items only to those on
    shift (audited)."""
    set_shift(session, user, body.on_shift)
    return user


@router.get("/users", response_model=list[UserOut])
def list_users(user: ApiUser, session: DbSession) -> list[UserRecord]:
    """The team, for assigning items by name."""
    return colleagues(session)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    responses={
        **documented(400, 403),
        409: {"model": ErrorOut, "description": "A user of that name exists already."},
    },
)
def create_user(body: UserIn, user: ApiUser, session: DbSession) -> UserRecord:
    """A new account (admins only); its password is hashed, never stored."""
    authorize(policies.can_manage_users(user))
    if find_user(session, body.name) is not None:
        raise NameTaken(body.name)
    return add_user(session, body.name, body.role, body.password, body.brands)


# --- saved replies ----------------------------------------------------------------------------


@router.get("/replies", response_model=list[SavedReplyOut])
def list_saved_replies(
    user: ApiUser,
    session: DbSession,
    brand: Annotated[str | None, Query(max_length=200)] = None,
    category: Category | None = None,
) -> list[Any]:
    """Saved replies for a brand (its own and those for every brand) and category."""
    return visible_replies(session, user, brand, category)


@router.post(
    "/replies", response_model=SavedReplyOut, status_code=201, responses=documented(400, 403)
)
def create_saved_reply(body: SavedReplyIn, user: ApiUser, session: DbSession) -> Any:
    """A new saved reply (leads and admins); placeholders are checked by the sandbox."""
    return save_reply(session, user, None, **body.model_dump())


@router.put(
    "/replies/{reply_id}", response_model=SavedReplyOut, responses=documented(400, 403, 404)
)
def update_saved_reply(
    reply_id: ReplyId, body: SavedReplyIn, user: ApiUser, session: DbSession
) -> Any:
    """Change a saved reply (leads and admins, within their brands)."""
    reply = visible_reply(session, user, reply_id)
    return save_reply(session, user, reply, **body.model_dump())
