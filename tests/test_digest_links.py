"""Each figure of the digest links to the queue items behind it: the same posts, of its day."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from monitor.access.roles import Role
from monitor.access.users import add_user
from monitor.digest.build import Digest, Period, build_digest
from monitor.digest.render import render
from monitor.runtime import Runtime
from monitor.storage.database import Database
from tests import factories
from tests.conftest import WEB_PASSWORD, log_in

BERLIN = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 23)
"""Monday; in Berlin from 2026-11-22 23:00 to 2026-11-23 23:00 UTC."""
BRANDS = ["Deutsche Bahn", "Telekom"]


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=BERLIN)


def seed(db: Database) -> None:
    """Flagged posts of the day (local midnight included) and right around it, a few troll
    posts, an unflagged one (never queued) and another brand's; `jana` leads, `tina` sees
    only Telekom."""
    before, after = DAY - timedelta(days=1), DAY + timedelta(days=1)
    posts = [
        factories.mention(at(DAY, 0), flagged=True, item={}),
        factories.mention(at(DAY, 23, 59, 59), flagged=True, platform="reddit", item={}),
        factories.mention(at(DAY, 9), flagged=True, item={"category": "crisis"}),
        factories.mention(at(DAY, 10), flagged=True, item={"category": "troll"}),
        factories.mention(at(DAY, 11), flagged=True, item={"action": "escalate"}),
        factories.mention(at(before, 23, 59, 59), flagged=True, item={"category": "troll"}),
        factories.mention(at(after, 0), flagged=True, item={"category": "crisis"}),
        factories.mention(at(DAY, 12)),
        factories.mention(at(DAY, 13), brand="Telekom", flagged=True, item={}),
    ]
    with db.transaction() as session:
        session.add_all(posts)
        add_user(session, "jana", Role.LEAD, WEB_PASSWORD)
        add_user(session, "tina", Role.AGENT, WEB_PASSWORD, brands=["Telekom"])


def digest_of_the_day(db: Database, runtime: Runtime) -> Digest:
    with db.transaction() as session:
        return build_digest(
            session,
            "digest",
            BRANDS,
            Period(DAY, runtime.settings.digest.timezone),
            runtime.settings.web,
            now=at(DAY + timedelta(days=1), 8),
        )


def listed(client: TestClient, link: str, base_url: str) -> int:
    """How many items the queue page behind `link` lists (one page holds them all here)."""
    assert link.startswith(base_url + "/?")
    html = client.get(link.removeprefix(base_url)).text
    rows = len(re.findall(r'<tr class="sla-\w+"', html))
    [total] = re.findall(r'<span class="count">(\d+) Eintr', html)
    assert int(total) == rows
    return rows


def test_every_figure_of_the_day_counts_the_items_behind_its_link(
    web_client: TestClient, web_runtime: Runtime, db: Database
) -> None:
    seed(db)
    digest = digest_of_the_day(db, web_runtime)
    mail = render(digest)
    bahn, telekom = digest.brands
    figures = {
        "markiert": bahn.flagged,
        "markiert Telekom": telekom.flagged,
        **{f"markiert {p.platform}": p.flagged for p in bahn.platforms},
        **{f"Kategorie {c.key}": c for c in bahn.categories},
        **{f"Aktion {a.key}": a for a in bahn.actions},
    }
    links = {name: (figure.count, figure.link) for name, figure in figures.items()}
    links["Trolle"] = (bahn.trolls.items, bahn.trolls.link)
    assert bahn.flagged.count == 5 and bahn.trolls.items == 1
    assert {"markiert twitter", "markiert reddit", "Kategorie crisis"} <= set(links)
    base_url = web_runtime.settings.web.base_url
    log_in(web_client, "jana")
    for name, (count, link) in links.items():
        assert "von=2026-11-23&bis=2026-11-23" in link, name
        in_mail = rf'<a href="{re.escape(escape(link))}" style="[^"]*">{count}(</a>| Troll)'
        assert re.search(in_mail, mail.html), name
        assert listed(web_client, link, base_url) == count, name
    # unflagged posts are never queued: "Erwähnungen" links to the day's flagged ones
    assert (bahn.mentions.count, bahn.mentions.link) == (6, bahn.flagged.link)
    assert "von=" not in bahn.answering.open_link  # what is open now, of any day
    assert listed(web_client, bahn.answering.open_link, base_url) == 7


@pytest.mark.parametrize(("user", "bahn_items"), [("jana", 5), ("tina", 0)])
def test_a_digest_link_stays_within_the_readers_brands(
    web_client: TestClient, web_runtime: Runtime, db: Database, user: str, bahn_items: int
) -> None:
    seed(db)
    bahn, telekom = digest_of_the_day(db, web_runtime).brands
    base_url = web_runtime.settings.web.base_url
    log_in(web_client, user)
    assert listed(web_client, bahn.flagged.link, base_url) == bahn_items
    assert listed(web_client, telekom.flagged.link, base_url) == 1
