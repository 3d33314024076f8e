"""The alerts page (`/alerts`), within the user's brands. Read only: alerts open and close by
themselves (`monitor.alerts.check`); the banner on every page is `views.alert_banner`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from monitor.alerts.queries import alert_summary, kind_name, title
from monitor.alerts.records import MEASURE_NAMES
from monitor.storage.models import AlertRecord
from monitor.web.deps import CurrentUser, DbSession, LoggedIn
from monitor.web.ui import render
from monitor.web.views import visible_alerts

router = APIRouter()


def alert_view(alert: AlertRecord) -> dict[str, Any]:
    """An alert as the page lists it: the summary plus its German title and kind."""
    return {
        **alert_summary(alert),
        "title": title(alert),
        "kind_name": kind_name(alert.kind),
        "measure_name": MEASURE_NAMES.get((alert.details or {}).get("measure") or "", ""),
        "opened": alert.opened_at,
        "closed": alert.closed_at,
    }


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    session: DbSession,
    browser: LoggedIn,
    user: CurrentUser,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> Response:
    alerts = [alert_view(alert) for alert in visible_alerts(session, user, open_only, 200, 0)]
    return render(request, "alerts.html", browser, alerts=alerts, open_only=open_only)
