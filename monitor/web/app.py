"""The app factory: the German UI at `/`, static files, and the API mounted at /api/v1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from monitor.access.policies import PermissionDenied
from monitor.access.users import UserError
from monitor.guidance.replies import ReplyError
from monitor.queue.states import TransitionError
from monitor.queue.workflow import StaleItemError, WorkflowError
from monitor.runtime import Runtime
from monitor.storage.models import QueueItem
from monitor.web import admin, alerts, api, items, ui
from monitor.web.deps import CsrfRejected, LoginRequired
from monitor.web.filters import FilterError
from monitor.web.formatting import filters
from monitor.web.throttle import LoginThrottle, MemoryThrottle
from monitor.web.views import NotFound, item_row

HERE = Path(__file__).resolve().parent
API_PREFIX = "/api/v1"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Sent with every response: no inline or foreign scripts, no framing (clickjacking), no
guessed content types, no addresses of the queue leaking to linked sites."""
CSRF_REFUSED = (
    "Das Formular wurde ohne gültiges Sicherheits-Token gesendet (CSRF-Schutz). "
    "Bitte die Seite neu laden und noch einmal senden."
)


def create_app(runtime: Runtime, throttle: LoginThrottle | None = None) -> FastAPI:
    """The whole web app on `runtime`'s database and settings."""
    app = FastAPI(title="Rufwacht", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.throttle = throttle or MemoryThrottle()
    app.state.templates = templates(runtime.settings.digest.zone)
    app.include_router(ui.router)
    app.include_router(items.router)
    app.include_router(admin.router)
    app.include_router(alerts.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount(API_PREFIX, create_api(runtime))
    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(CsrfRejected, error_page(403, CSRF_REFUSED))
    app.add_exception_handler(NotFound, error_page(404))
    app.add_exception_handler(PermissionDenied, error_page(403))
    app.add_exception_handler(HTTPException, api_or_page(error_page()))
    app.add_exception_handler(RequestValidationError, error_page(400, "Ungültige Anfrage."))
    app.middleware("http")(add_security_headers)
    return app


async def add_security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    return response


def create_api(runtime: Runtime) -> FastAPI:
    """The REST API; its errors are JSON `{"detail": message}`, as its OpenAPI says."""
    api_app = FastAPI(
        title="Rufwacht API",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        servers=[{"url": API_PREFIX}],
    )
    api_app.state.runtime = runtime
    api_app.include_router(api.router)
    api_app.add_exception_handler(NotFound, json_error(404))
    api_app.add_exception_handler(PermissionDenied, json_error(403))
    api_app.add_exception_handler(api.NameTaken, json_error(409))
    api_app.add_exception_handler(FilterError, json_error(422))
    api_app.add_exception_handler(StaleItemError, stale_item)
    for refused in (WorkflowError, TransitionError, ReplyError, UserError):
        api_app.add_exception_handler(refused, json_error(400))
    api_app.add_exception_handler(RequestValidationError, invalid_request)
    api_app.add_exception_handler(HTTPException, api_http_error)
    return api_app


def templates(zone: ZoneInfo) -> Jinja2Templates:
    """Jinja2 with autoescape on for every template: post texts, author names and saved
    replies are written by strangers. Times read in `zone`."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters.update(filters(zone))
    return Jinja2Templates(env=environment)


def to_login(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def error_page(
    status: int | None = None, message: str | None = None
) -> Callable[[Request, Exception], HTMLResponse]:
    """A handler that shows the German error page (status and message from the exception
    unless given)."""

    def handle(request: Request, exc: Exception) -> HTMLResponse:
        code = status or getattr(exc, "status_code", 500)
        text = message or (str(exc.detail) if isinstance(exc, HTTPException) else str(exc))
        if code == 404 and isinstance(exc, HTTPException):
            text = "Diese Seite gibt es nicht."
        page: Jinja2Templates = request.app.state.templates
        return page.TemplateResponse(
            request, "error.html", {"status": code, "message": text}, status_code=code
        )

    return handle


def json_error(status: int) -> Callable[[Request, Exception], JSONResponse]:
    def handle(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


API_HTTP_ERRORS = {
    404: "Diese Adresse gibt es in der API nicht (siehe /api/v1/openapi.json).",
    405: "Diese Methode ist hier nicht erlaubt (siehe Allow).",
}


def api_or_page(
    page: Callable[[Request, Exception], HTMLResponse],
) -> Callable[[Request, Exception], Response]:
    """Starlette's errors under /api/v1 in JSON even where the mount does not match (a path
    with a line break in it), elsewhere the German error page."""

    def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(API_PREFIX + "/"):
            return api_http_error(request, exc)
        return page(request, exc)

    return handle


def api_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors in the API's error shape, in German. A 405's `Allow` lists the
    methods of the route the path means: Starlette names only those of the first route the
    path fits (for `/users`, GET but not POST; for `/items/bulk`, the GET of `/items/{id}`)."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    detail = API_HTTP_ERRORS.get(exc.status_code, str(exc.detail))
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """The methods the API documents for the path template that fits the request's path
    best: the one with the most literal segments."""
    parts = request.url.path.removeprefix(API_PREFIX).strip("/").split("/")
    fitting = []
    for template, operations in request.app.openapi()["paths"].items():
        segments = template.strip("/").split("/")
        if len(segments) == len(parts) and all(
            s == p or s.startswith("{") for s, p in zip(segments, parts, strict=True)
        ):
            literal = sum(not s.startswith("{") for s in segments)
            fitting.append((literal, sorted(m.upper() for m in operations)))
    return max(fitting)[1] if fitting else []


def stale_item(request: Request, exc: Exception) -> JSONResponse:
    """409 with the German message and the item as it stands now, read afresh: the request's
    own transaction has been rolled back."""
    assert isinstance(exc, StaleItemError)
    runtime: Runtime = request.app.state.runtime
    with runtime.database.transaction() as session:
        item = session.get(QueueItem, exc.item_id)
        fresh = jsonable_encoder(item_row(item)) if item is not None else None
    return JSONResponse({"detail": str(exc), "item": fresh}, status_code=409)


def invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """422 with one line naming each invalid parameter, in the documented error shape."""
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return JSONResponse({"detail": f"Ungültige Anfrage: {problems}"}, status_code=422)
