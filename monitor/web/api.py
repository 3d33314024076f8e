"""The REST API under /api/v1: thin handlers (load → authorize → respond) over `views`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from monitor.queue import QueueStatus, item_summary
from monitor.web.deps import ApiUser, DbSession, ItemId
from monitor.web.schemas import ErrorOut, ItemDetailOut, ItemPageOut
from monitor.web.views import MAX_PAGE_SIZE, PAGE_SIZE, item_details, queue_page, visible_item

MAX_OFFSET = 10**9

router = APIRouter(
    responses={
        401: {"model": ErrorOut, "description": "No valid bearer token."},
        422: {"model": ErrorOut, "description": "A parameter is invalid."},
    }
)


@router.get("/items", response_model=ItemPageOut)
def list_queue(
    user: ApiUser,
    session: DbSession,
    status: QueueStatus | None = None,
    brand: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Queue items within the caller's brands, most urgent first, one page at a time."""
    page = queue_page(session, user, status, brand, limit, offset)
    items = [item_summary(item) for item in page.items]
    return {"items": items, "total": page.total, "limit": limit, "offset": offset}


@router.get(
    "/items/{item_id}",
    response_model=ItemDetailOut,
    responses={404: {"model": ErrorOut, "description": "No such item the caller may see."}},
)
def show_item(item_id: ItemId, user: ApiUser, session: DbSession) -> dict[str, Any]:
    """One item with author, metrics, matched terms, scores and the triage's reasons."""
    return item_details(visible_item(session, user, item_id))
