"""A fake Reddit: OAuth token, subreddit search, new/comments listings, /api/info, author
details and replies, answering in Reddit's listing format with its rate-limit headers."""

from __future__ import annotations

import base64
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
USERNAME = "rufwacht_team"
PASSWORD = "test-password"
ACCESS_TOKEN = "test-access-token"
TIME_FILTERS = {"hour": 1, "day": 24, "week": 24 * 7, "month": 24 * 30, "year": 24 * 365}
RATE_HEADERS = {"x-ratelimit-remaining": "599", "x-ratelimit-used": "1", "x-ratelimit-reset": "300"}
LISTING = re.compile(r"/r/(?P<subs>[\w+]+)/(?P<kind>search|new|comments)/?")


def to36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def search_matches(query: str, text: str) -> bool:
    """Lucene-ish: any OR-ed term (bare word or quoted phrase) as a whole word."""
    terms = [t.strip().strip('"') for t in query.strip("()").split(" OR ")]
    folded = text.casefold()
    return any(re.search(rf"(?<!\w){re.escape(t.casefold())}(?!\w)", folded) for t in terms)


class FakeReddit(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.page_cap = 100
        """Reddit returns at most 100 items per listing request; lower it to force pages."""
        self.replies: list[dict[str, str]] = []
        self._ids = itertools.count(1000)

    # Scenario building

    def add_user(self, name: str, age_days: int = 400) -> str:
        fullname = f"t2_{to36(next(self._ids))}"
        created = (datetime.now(UTC) - timedelta(days=age_days)).timestamp()
        self.users[fullname] = {
            "name": name,
            "created_utc": created,
            "link_karma": 10,
            "comment_karma": 20,
            "profile_img": "",
            "profile_color": "",
            "profile_over_18": False,
        }
        return fullname

    def _author(self, author: str | None) -> dict[str, Any]:
        if author is None:
            return {"author": "[deleted]"}
        fullname = next(k for k, v in self.users.items() if v["name"] == author)
        return {"author": author, "author_fullname": fullname}

    def add_submission(
        self,
        subreddit: str,
        title: str,
        selftext: str = "",
        author: str | None = "pendler",
        ago: timedelta = timedelta(minutes=5),
    ) -> str:
        item_id = to36(next(self._ids))
        created = (datetime.now(UTC) - ago).timestamp()
        self.items[f"t3_{item_id}"] = {
            "id": item_id,
            "name": f"t3_{item_id}",
            "title": title,
            "selftext": selftext,
            "subreddit": subreddit,
            "subreddit_name_prefixed": f"r/{subreddit}",
            "created_utc": created,
            "created": created,
            "permalink": f"/r/{subreddit}/comments/{item_id}/post/",
            "url": f"https://www.reddit.com/r/{subreddit}/comments/{item_id}/post/",
            "score": 3,
            "num_comments": 0,
            "edited": False,
            "removed_by_category": None,
            "is_self": True,
            "over_18": False,
            **self._author(author),
        }
        return f"t3_{item_id}"

    def add_comment(
        self,
        parent: str,
        body: str,
        author: str | None = "pendler",
        ago: timedelta = timedelta(minutes=5),
    ) -> str:
        submission = self.items[parent] if parent.startswith("t3_") else None
        link = parent if submission else self.items[parent]["link_id"]
        subreddit = self.items[link]["subreddit"]
        item_id = to36(next(self._ids))
        created = (datetime.now(UTC) - ago).timestamp()
        self.items[f"t1_{item_id}"] = {
            "id": item_id,
            "name": f"t1_{item_id}",
            "body": body,
            "subreddit": subreddit,
            "created_utc": created,
            "created": created,
            "permalink": f"/r/{subreddit}/comments/{link[3:]}/post/{item_id}/",
            "parent_id": parent,
            "link_id": link,
            "score": 1,
            "edited": False,
            "replies": "",
            **self._author(author),
        }
        return f"t1_{item_id}"

    def edit(self, fullname: str, text: str) -> None:
        item = self.items[fullname]
        item["body" if fullname.startswith("t1_") else "selftext"] = text
        item["edited"] = datetime.now(UTC).timestamp()

    def delete(self, fullname: str) -> None:
        """What Reddit shows after the author deletes: the item stays, its content goes."""
        item = self.items[fullname]
        item.update(author="[deleted]")
        item.pop("author_fullname", None)
        if fullname.startswith("t1_"):
            item["body"] = "[deleted]"
        else:
            item.update(selftext="[deleted]", removed_by_category="deleted")

    # Service

    def handle(self, request: Request) -> Reply:
        if request.path == "/api/v1/access_token":
            return self._token(request)
        if request.headers.get("authorization") != f"bearer {ACCESS_TOKEN}":
            return Reply(
                401,
                {"message": "Unauthorized", "error": 401},
                {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'},
            )
        reply = self._route(request)
        reply.headers = {**RATE_HEADERS, **reply.headers}
        return reply

    def _route(self, request: Request) -> Reply:
        if match := LISTING.fullmatch(request.path):
            subs = {s.casefold() for s in match["subs"].split("+")}
            return self._listing(match["kind"], subs, request.params)
        if request.path.rstrip("/") == "/api/info":
            names = request.params.get("id", "").split(",")
            return Reply(200, self._page([self.items[n] for n in names if n in self.items], None))
        if request.path == "/api/user_data_by_account_ids":
            ids = request.params.get("ids", "").split(",")
            found = {i: self.users[i] for i in ids if i in self.users}
            return (
                Reply(200, found) if found else Reply(404, {"message": "Not Found", "error": 404})
            )
        if request.path.rstrip("/") == "/api/comment" and request.method == "POST":
            return self._reply(request.form())
        return Reply(404, {"message": "Not Found", "error": 404})

    def _token(self, request: Request) -> Reply:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Reply(401, {"message": "Unauthorized", "error": 401})
        form = request.form()
        if form.get("grant_type") == "password" and (
            form.get("username"),
            form.get("password"),
        ) != (USERNAME, PASSWORD):
            return Reply(200, {"error": "invalid_grant"})
        return Reply(
            200,
            {
                "access_token": ACCESS_TOKEN,
                "token_type": "bearer",
                "expires_in": 86400,
                "scope": "*",
            },
        )

    def _listing(self, kind: str, subs: set[str], params: dict[str, str]) -> Reply:
        prefix = "t1_" if kind == "comments" else "t3_"
        items = [
            item
            for name, item in self.items.items()
            if name.startswith(prefix) and item["subreddit"].casefold() in subs
        ]
        if kind == "search":
            hours = TIME_FILTERS.get(params.get("t", "all"))
            since = (datetime.now(UTC) - timedelta(hours=hours)).timestamp() if hours else 0
            items = [
                item
                for item in items
                if item["created_utc"] >= since
                and item.get("removed_by_category") is None
                and search_matches(params.get("q", ""), f"{item['title']} {item['selftext']}")
            ]
        items.sort(key=lambda item: item["created_utc"], reverse=True)
        if after := params.get("after"):
            names = [item["name"] for item in items]
            items = items[names.index(after) + 1 :] if after in names else []
        limit = min(int(params.get("limit", 25)), self.page_cap)
        page = items[:limit]
        return Reply(200, self._page(page, page[-1]["name"] if len(items) > limit else None))

    def search_page(self, fullnames: list[str]) -> dict[str, Any]:
        """A listing body of these items, to edit into a broken answer for `queue`."""
        return self._page([self.items[name] for name in fullnames], None)

    @staticmethod
    def _page(items: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
        children = [{"kind": item["name"][:2], "data": dict(item)} for item in items]
        return {
            "kind": "Listing",
            "data": {"after": after, "before": None, "dist": len(children), "children": children},
        }

    def _reply(self, form: dict[str, str]) -> Reply:
        self.replies.append(form)
        parent = form["thing_id"]
        name = self.add_comment(parent, form["text"], author=None, ago=timedelta(0))
        comment = {**self.items[name], "author": USERNAME}
        return Reply(
            200,
            {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": comment}]}}},
        )
