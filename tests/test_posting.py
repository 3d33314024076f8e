"""Sending an approved reply through the platform: posted with real tweepy/praw to the fake X and
Reddit where the source's posting is on, its link kept and audited; refused where posting is
off; a platform error leaves the item approved and unsent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from monitor.access.roles import Role
from monitor.access.users import add_user
from monitor.runtime import Runtime
from monitor.storage.database import Database
from monitor.storage.models import AuditEntry, DraftRecord, QueueItem
from monitor.web.app import create_app
from tests.conftest import WEB_PASSWORD, log_in
from tests.fakes import reddit, twitter
from tests.fakes.reddit import FakeReddit
from tests.fakes.server import Reply
from tests.fakes.twitter import FakeX
from tests.web_team import Member, member, new_item

REPLY = (
    "Hallo, danke für Ihre Nachricht, und es tut uns leid, dass der Zug ausgefallen ist. "
    "Schicken Sie uns bitte per Direktnachricht Ihre Verbindung, dann prüfen wir das."
)
CREDENTIALS = {
    "TWITTER_BEARER_TOKEN": twitter.BEARER,
    "TWITTER_API_KEY": "k",
    "TWITTER_API_SECRET": "s",
    "TWITTER_ACCESS_TOKEN": "t",
    "TWITTER_ACCESS_TOKEN_SECRET": "ts",
    "REDDIT_CLIENT_ID": reddit.CLIENT_ID,
    "REDDIT_CLIENT_SECRET": reddit.CLIENT_SECRET,
    "REDDIT_USERNAME": reddit.USERNAME,
    "REDDIT_PASSWORD": reddit.PASSWORD,
}


def runtime_with(web_runtime: Runtime, db: Database, **sources: dict[str, Any]) -> Runtime:
    """The web runtime with `[sources.NAME]` keys changed."""
    current = web_runtime.settings.sources
    changed = {
        name: getattr(current, name).model_copy(update=keys) for name, keys in sources.items()
    }
    settings = web_runtime.settings.model_copy(
        update={"sources": current.model_copy(update=changed)}
    )
    return Runtime(settings, db)


def posting_on(**keys: str) -> dict[str, Any]:
    return {"enabled": True, "reply_enabled": True, "dry_run": False, **keys}


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def posting(
    web_runtime: Runtime, db: Database, fake_x: FakeX, fake_reddit: FakeReddit, credentials: None
) -> Runtime:
    """X and Reddit with posting on, served by the fakes."""
    return runtime_with(
        web_runtime,
        db,
        twitter=posting_on(api_base_url=fake_x.url),
        reddit=posting_on(oauth_url=fake_reddit.url, reddit_url=fake_reddit.url),
    )


@pytest.fixture
def team(db: Database) -> dict[str, Member]:
    with db.transaction() as session:
        return {
            "anna": member(session, "anna", "approver"),
            "ben": member(session, "ben", "approver"),
        }


class Flow:
    """The API as anna (drafts, sends) and ben (approves)."""

    def __init__(self, client: TestClient, team: dict[str, Member]) -> None:
        self.client, self.team = client, team

    def call(self, who: str, path: str, body: dict[str, Any], status: int = 200) -> Any:
        headers = self.team[who].headers
        response = self.client.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code == status, response.text
        return response.json()

    def approved(self, item_id: int) -> int:
        """Draft, submit and approve the reply; the item's version afterwards."""
        drafted = self.call("anna", f"/items/{item_id}/draft", {"text": REPLY, "version": 1})
        version = drafted["item"]["version"]
        return int(
            self.call("ben", f"/items/{item_id}/approve", {"version": version})["item"]["version"]
        )

    def send(self, item_id: int, version: int, status: int = 200, **body: Any) -> Any:
        return self.call("anna", f"/items/{item_id}/send", {"version": version, **body}, status)


@pytest.fixture
def flow(posting: Runtime, team: dict[str, Member]) -> Iterator[Flow]:
    with TestClient(create_app(posting)) as client:
        yield Flow(client, team)


def stored_item(db: Database, **post: Any) -> int:
    with db.transaction() as session:
        return new_item(session, **post).id


def sent_state(db: Database, item_id: int) -> tuple[str, int, str, str | None]:
    with db.transaction() as session:
        item = session.get(QueueItem, item_id)
        assert item is not None
        draft = session.scalars(select(DraftRecord).where(DraftRecord.item_id == item_id)).one()
        return item.status, item.version, draft.status, draft.sent_link


def reply_audit(db: Database, item_id: int) -> list[dict[str, Any]]:
    with db.transaction() as session:
        query = select(AuditEntry).where(
            AuditEntry.item_id == item_id, AuditEntry.action == "reply"
        )
        return [entry.details for entry in session.scalars(query)]


def test_an_approved_reply_is_posted_to_x_and_its_link_kept(
    flow: Flow, fake_x: FakeX, db: Database
) -> None:
    tweet = fake_x.add_tweet("Zug fällt schon wieder aus, unzumutbar", fake_x.add_user("kunde"))
    item_id = stored_item(db, platform_id=tweet)

    sent = flow.send(item_id, flow.approved(item_id), mode="posted")

    assert fake_x.posted == [{"text": REPLY, "reply": {"in_reply_to_tweet_id": tweet}}]
    link = sent["draft"]["sent_link"]
    assert link.startswith("https://x.com/i/web/status/") and link.split("/")[-1] in fake_x.tweets
    assert (sent["item"]["status"], sent["draft"]["sent_via"]) == ("replied", "posted")
    assert reply_audit(db, item_id) == [
        {"draft_id": sent["draft"]["id"], "via": "posted", "link": link}
    ]


def test_an_approved_reply_is_posted_to_reddit_under_the_thread(
    flow: Flow, fake_reddit: FakeReddit, db: Database
) -> None:
    fake_reddit.add_user("pendler")
    thread = fake_reddit.add_submission("de", "Bahn unzumutbar", "Schon wieder verspätet.")
    item_id = stored_item(db, platform="reddit", source="reddit", platform_id=thread)

    sent = flow.send(item_id, flow.approved(item_id), mode="posted")

    assert fake_reddit.replies == [{"thing_id": thread, "text": REPLY, "api_type": "json"}]
    assert sent["draft"]["sent_link"].startswith(
        f"https://www.reddit.com/r/de/comments/{thread[3:]}/"
    )
    assert sent_state(db, item_id)[::2] == ("replied", "sent")


def test_where_posting_is_off_nothing_leaves_and_a_dry_run_is_recorded(
    web_runtime: Runtime, db: Database, fake_x: FakeX, team: dict[str, Member], credentials: None
) -> None:
    runtime = runtime_with(web_runtime, db, twitter={"enabled": True, "api_base_url": fake_x.url})
    item_id = stored_item(db, platform_id="1")
    with TestClient(create_app(runtime)) as client:
        flow = Flow(client, team)
        version = flow.approved(item_id)
        refused = flow.send(item_id, version, 400, mode="posted")
        assert refused["detail"] == "Für die Quelle „twitter“ ist das Posten nicht eingeschaltet."
        assert sent_state(db, item_id) == ("awaiting_approval", version, "approved", None)

        sent = flow.send(item_id, version)

    assert (sent["draft"]["sent_via"], sent["draft"]["sent_link"]) == ("dry_run", None)
    assert reply_audit(db, item_id) == [
        {"draft_id": sent["draft"]["id"], "via": "dry_run", "link": None}
    ]
    assert fake_x.requests == []


def test_a_platform_error_is_explained_and_the_reply_stays_approved(
    flow: Flow, fake_x: FakeX, db: Database
) -> None:
    tweet = fake_x.add_tweet("Zug fällt aus, unzumutbar", fake_x.add_user("kunde"))
    item_id = stored_item(db, platform_id=tweet)
    version = flow.approved(item_id)
    fake_x.queue("/2/tweets", Reply(403, {"title": "Forbidden", "detail": "duplicate content"}))

    refused = flow.send(item_id, version, 400, mode="posted")

    assert refused["detail"].startswith("Die Plattform hat die Antwort nicht angenommen")
    assert "403" in refused["detail"] and "bleibt freigegeben und ungesendet" in refused["detail"]
    assert sent_state(db, item_id) == ("awaiting_approval", version, "approved", None)
    assert reply_audit(db, item_id) == []
    assert flow.send(item_id, version, mode="posted")["item"]["status"] == "replied"


def test_the_item_page_offers_posting_only_where_it_is_on(
    posting: Runtime, web_runtime: Runtime, db: Database, team: dict[str, Member]
) -> None:
    with db.transaction() as session:
        add_user(session, "carla", Role.APPROVER, WEB_PASSWORD)
    item_id = stored_item(db)
    reddit_item = stored_item(db, platform="reddit", source="reddit", platform_id="t3_x")
    off = runtime_with(web_runtime, db, reddit={"enabled": True})
    with TestClient(create_app(posting)) as client:
        flow = Flow(client, team)
        flow.approved(item_id)
        flow.approved(reddit_item)
        assert log_in(client, "carla").status_code == 200
        page = client.get(f"/items/{item_id}").text
        assert 'value="posted"' in page and "Posten (über twitter)" in page
    with TestClient(create_app(off)) as client:
        assert log_in(client, "carla").status_code == 200
        assert 'value="posted"' not in client.get(f"/items/{reddit_item}").text
