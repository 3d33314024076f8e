"""A fake X API v2: recent search, tweet lookup and posting, with X's own answers to bad input.

Tweet ids are snowflakes (they carry their creation time), search understands the query
syntax the connector sends (OR groups, quoted phrases, `-term`, `lang:`), honours
since_id/until_id/start_time/max_results and pages with next_token, newest first.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

SNOWFLAKE_EPOCH_MS = 1288834974657
BEARER = "test-bearer-token"
DEFAULT_TWEET_FIELDS = ("id", "text", "edit_history_tweet_ids")
TOKEN = re.compile(r'-?"[^"]*"|-?\([^)]*\)|\S+')


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class FakeTweet:
    id: str
    text: str
    author_id: str
    created_at: datetime
    lang: str = "de"
    history: list[str] = field(default_factory=list)
    metrics: dict[str, int] = field(default_factory=dict)
    reply_to: str | None = None

    def payload(self, fields: set[str]) -> dict[str, Any]:
        full: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "edit_history_tweet_ids": self.history or [self.id],
            "author_id": self.author_id,
            "created_at": iso(self.created_at),
            "lang": self.lang,
            "conversation_id": self.reply_to or self.id,
            "public_metrics": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                **self.metrics,
            },
        }
        if self.reply_to:
            full["referenced_tweets"] = [{"type": "replied_to", "id": self.reply_to}]
        return {k: v for k, v in full.items() if k in fields or k in DEFAULT_TWEET_FIELDS}


def term_matches(term: str, text: str) -> bool:
    term = term.strip('"').casefold()
    return re.search(rf"(?<![\w@#]){re.escape(term)}(?!\w)", text.casefold()) is not None


def query_matches(query: str, tweet: FakeTweet) -> bool:
    for token in TOKEN.findall(query):
        negated = token.startswith("-")
        token = token.removeprefix("-")
        if token.startswith("lang:"):
            ok = tweet.lang == token.removeprefix("lang:")
        elif token == "is:retweet":
            ok = False  # the fake has no retweets
        elif token.startswith("("):
            ok = any(term_matches(t, tweet.text) for t in token.strip("()").split(" OR "))
        else:
            ok = term_matches(token, tweet.text)
        if ok == negated:
            return False
    return True


def problem(status: int, title: str, detail: str, **extra: Any) -> Reply:
    body = {"title": title, "detail": detail, "type": "about:blank", "status": status, **extra}
    return Reply(status, body)


class FakeX(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.tweets: dict[str, FakeTweet] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.drop_includes = False
        self.posted: list[dict[str, Any]] = []
        self._sequence = itertools.count(1)

    # Scenario building

    def add_user(self, username: str, followers: int = 10, age_days: int = 400) -> str:
        user_id = str(1000 + len(self.users))
        created = datetime.now(UTC) - timedelta(days=age_days)
        self.users[user_id] = {
            "id": user_id,
            "username": username,
            "name": username.title(),
            "created_at": iso(created),
            "public_metrics": {"followers_count": followers, "following_count": 5},
        }
        return user_id

    def add_tweet(
        self, text: str, author_id: str, *, ago: timedelta = timedelta(minutes=5), **extra: Any
    ) -> str:
        created = datetime.now(UTC) - ago
        milliseconds = int(created.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
        tweet_id = str((milliseconds << 22) | next(self._sequence))
        self.tweets[tweet_id] = FakeTweet(tweet_id, text, author_id, created, **extra)
        return tweet_id

    def edit(self, tweet_id: str, text: str) -> str:
        """A new version with a new id; every version lists the whole history, as on X."""
        old = self.tweets[tweet_id]
        new_id = self.add_tweet(text, old.author_id, ago=timedelta(0), lang=old.lang)
        history = [*(old.history or [tweet_id]), new_id]
        for version in history:
            self.tweets[version].history = history
        return new_id

    # Service

    def handle(self, request: Request) -> Reply:
        if request.path == "/2/tweets" and request.method == "POST":
            return self._create(request)
        if request.headers.get("authorization") != f"Bearer {BEARER}":
            return problem(401, "Unauthorized", "Unauthorized")
        if request.path == "/2/tweets/search/recent":
            return self._search(request.params)
        if request.path == "/2/tweets":
            return self._lookup(request.params)
        return problem(404, "Not Found Error", f"no route {request.path}")

    def _search(self, params: dict[str, str]) -> Reply:
        query = params.get("query", "")
        if len(query) > 512:
            return self._invalid("query", f"Query length {len(query)} exceeds 512")
        max_results = int(params.get("max_results", 10))
        if not 10 <= max_results <= 100:
            return self._invalid("max_results", "must be between 10 and 100")
        oldest = datetime.now(UTC) - timedelta(days=7)
        start = parse_time(params["start_time"]) if "start_time" in params else oldest
        if start < oldest:
            return self._invalid("start_time", "must be within the last 7 days")
        since = int(params.get("since_id", 0))
        if since and self._time_of(since) < oldest:
            return self._invalid("since_id", "must be a tweet id created in the last 7 days")
        until = min(int(params.get("until_id", 2**63)), int(params.get("next_token", 2**63)))
        candidates = sorted(
            (
                tweet
                for tweet in self.tweets.values()
                if tweet.id not in self.deleted
                and since < int(tweet.id) < until
                and tweet.created_at >= start
                and query_matches(query, tweet)
            ),
            key=lambda tweet: int(tweet.id),
            reverse=True,
        )
        page = candidates[:max_results]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if len(candidates) > max_results:
            meta["next_token"] = page[-1].id
        fields = set(params.get("tweet.fields", "").split(","))
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [tweet.payload(fields) for tweet in page]
            body.update(self._expand(page, params))
        return Reply(200, body)

    def _expand(self, page: list[FakeTweet], params: dict[str, str]) -> dict[str, Any]:
        if "author_id" not in params.get("expansions", "") or self.drop_includes:
            return {}
        author_ids = list(dict.fromkeys(tweet.author_id for tweet in page))
        user_fields = set(params.get("user.fields", "").split(",")) | {"id", "username", "name"}
        users = [
            {k: v for k, v in self.users[a].items() if k in user_fields}
            for a in author_ids
            if a in self.users
        ]
        missing = [
            {
                "value": a,
                "detail": f"Could not find user with id: [{a}].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "author_id",
                "resource_id": a,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            for a in author_ids
            if a not in self.users
        ]
        result: dict[str, Any] = {"includes": {"users": users}}
        if missing:
            result["errors"] = missing
        return result

    def _lookup(self, params: dict[str, str]) -> Reply:
        ids = [i for i in params.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return self._invalid("ids", "between 1 and 100 ids")
        fields = set(params.get("tweet.fields", "").split(","))
        found = [self.tweets[i] for i in ids if i in self.tweets and i not in self.deleted]
        body: dict[str, Any] = {}
        if found:
            body["data"] = [tweet.payload(fields) for tweet in found]
        errors = [
            {
                "value": i,
                "detail": f"Could not find tweet with ids: [{i}].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": i,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            for i in ids
            if i not in self.tweets or i in self.deleted
        ]
        if errors:
            body["errors"] = errors
        return Reply(200, body)

    def _create(self, request: Request) -> Reply:
        if not request.headers.get("authorization", "").startswith("OAuth "):
            return problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.",
            )
        payload = request.json()
        self.posted.append(payload)
        reply_id = self.add_tweet(payload["text"], "1", ago=timedelta(0))
        return Reply(201, {"data": {"id": reply_id, "text": payload["text"]}})

    def _invalid(self, parameter: str, message: str) -> Reply:
        return problem(
            400,
            "Invalid Request",
            "One or more parameters to your request was invalid.",
            errors=[{"parameters": {parameter: []}, "message": message}],
        )

    @staticmethod
    def _time_of(tweet_id: int) -> datetime:
        return datetime.fromtimestamp(((tweet_id >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)
