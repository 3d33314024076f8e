"""Twitter/X recent search through tweepy's API v2 client.

Recent search returns the newest tweets first and pages backwards in time, so the cursor of a
query records how far an interrupted run got: everything in `(since_id, until_id)` is still to
fetch, everything from `until_id` up to `newest_id` is stored. A finished run moves `since_id`
to `newest_id`. A crash between fetch and commit therefore re-fetches a page, never skips one,
and a long back-fill resumes where it stopped.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy

from connectors.base import (
    Author,
    Connector,
    Cursor,
    Page,
    Post,
    Rejected,
    SearchTerms,
    SourceError,
    as_value_errors,
    describe,
    json_payload,
    read_payload,
)
from connectors.capabilities import LOOKUP_BATCH, REPLY_LIMITS, ReplyResult
from connectors.live import HttpAdapter, credential
from connectors.query import build_queries, query_key, quote, unique
from connectors.retry import (
    DEFAULT_RATE_LIMIT_WAIT,
    Classifier,
    Clock,
    RetryPolicy,
    Sleep,
    call_with_retries,
)
from connectors.settings import SEARCH_WINDOW, X_HOST, TwitterSettings

log = logging.getLogger(__name__)

WINDOW_MARGIN = timedelta(minutes=1)
"""X rejects a start_time or since_id right at the 7-day edge; stay a little inside."""
SNOWFLAKE_EPOCH_MS = 1288834974657
MAX_REPLY_CHARS = REPLY_LIMITS["twitter"]
TWEET_URL = "https://x.com/i/web/status/"
"""Opens a tweet by id alone: the reply's answer does not name the posting account."""
BARE_TERM = re.compile(r"[@#$]?\w+")
EXPANSIONS = ["author_id"]
TWEET_FIELDS = [
    "created_at",
    "public_metrics",
    "conversation_id",
    "lang",
    "referenced_tweets",
    "author_id",
    "edit_history_tweet_ids",
]
USER_FIELDS = ["created_at", "public_metrics", "username", "name"]


def mount_base_url(session: requests.Session, base_url: str, timeout: float) -> None:
    """Route tweepy's hard-coded host to `base_url` (a proxy, or a test server)."""
    session.mount(X_HOST + "/", HttpAdapter(timeout, rebase=(X_HOST, base_url)))


def twitter_queries(terms: SearchTerms, language: str, max_length: int) -> list[str]:
    """`(brands) (keywords) lang:xx -is:retweet`, split to fit `max_length`.

    X has no prefix search, so a keyword `verspät*` is sent as `verspät` and X matches it
    as a whole word only.
    """
    brands = [quote(term, BARE_TERM) for term in unique(terms.brands)]
    keywords = [quote(t, BARE_TERM) for t in unique(k.rstrip("*") for k in terms.keywords)]
    operators = [f"lang:{language}"] if language else []
    operators.append("-is:retweet")
    return build_queries([brands, keywords], " ".join(operators), max_length)


def snowflake_time(tweet_id: str) -> datetime:
    """When a tweet id was issued: X ids carry their creation time in milliseconds."""
    milliseconds = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


@dataclass(frozen=True)
class QueryState:
    """One query's cursor; see the module docstring for what the ids mean."""

    since_id: str | None = None
    until_id: str | None = None
    newest_id: str | None = None

    @classmethod
    def from_cursor(cls, value: Any) -> QueryState:
        if not isinstance(value, Mapping):
            return cls()
        fields = cls.__dataclass_fields__
        return cls(**{k: str(v) for k, v in value.items() if k in fields and str(v).isdigit()})

    def to_cursor(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value}

    def finished(self) -> QueryState:
        return QueryState(since_id=self.newest_id or self.since_id)


class TwitterConnector(Connector):
    platform = "twitter"

    def __init__(
        self,
        source: str,
        client: tweepy.Client,
        settings: TwitterSettings,
        queries: Sequence[str],
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(source)
        self.client = client
        self.settings = settings
        self.queries = {query_key("q-", query): query for query in queries}
        self.policy: RetryPolicy = settings.retry_policy()
        self.sleep = sleep
        self.clock = clock

    @classmethod
    def from_settings(
        cls,
        source: str,
        settings: TwitterSettings,
        terms: SearchTerms,
        environ: Mapping[str, str],
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> TwitterConnector:
        token = credential(environ, source, settings.bearer_token_env, "X bearer token")
        user_keys: dict[str, str] = {}
        if settings.publishes:
            user_keys = {
                "consumer_key": credential(environ, source, settings.api_key_env, "X API key"),
                "consumer_secret": credential(
                    environ, source, settings.api_secret_env, "X API key secret"
                ),
                "access_token": credential(
                    environ, source, settings.access_token_env, "X access token"
                ),
                "access_token_secret": credential(
                    environ, source, settings.access_token_secret_env, "X access token secret"
                ),
            }
        client = tweepy.Client(bearer_token=token, return_type=dict, **user_keys)
        mount_base_url(client.session, settings.api_base_url, settings.timeout_seconds)
        try:
            queries = twitter_queries(terms, settings.language, settings.max_query_length)
        except ValueError as exc:
            raise SourceError(source, f"cannot build the X search query: {exc}") from None
        return cls(source, client, settings, queries, sleep=sleep, clock=clock)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # Fetching

    def fetch(self, cursor: Cursor) -> Iterator[Page]:
        states = {key: cursor[key] for key in self.queries if key in cursor}
        seen: set[str] = set()  # a tweet matching several queries is sent once per poll
        for key, query in self.queries.items():
            for page, state in self._search(query, QueryState.from_cursor(states.get(key))):
                states[key] = state.to_cursor()
                page.cursor = dict(states)
                page.posts = [post for post in page.posts if post.platform_id not in seen]
                seen.update(post.platform_id for post in page.posts)
                yield page

    def _search(self, query: str, state: QueryState) -> Iterator[tuple[Page, QueryState]]:
        oldest = self.now() - SEARCH_WINDOW + WINDOW_MARGIN
        if state.until_id and snowflake_time(state.until_id) <= oldest:
            log.warning("%s: the rest of an interrupted poll is older than 7 days", self.source)
            state = state.finished()
        search = self._guarded(self.client.search_recent_tweets, "X recent search")
        pages = tweepy.Paginator(
            search,
            query,
            max_results=self.settings.page_size,
            expansions=EXPANSIONS,
            tweet_fields=TWEET_FIELDS,
            user_fields=USER_FIELDS,
            **self._window(state, oldest),
        )
        for body in pages:
            meta = body.get("meta") or {}
            page = self._parse(body)
            newest = state.newest_id or _optional_id(meta.get("newest_id"))
            if meta.get("next_token"):
                until = _optional_id(meta.get("oldest_id"))
                if until is None:
                    raise SourceError(self.source, "X recent search: next_token without oldest_id")
                state = QueryState(state.since_id, until, newest)
            else:
                state = QueryState(since_id=newest or state.since_id)
            yield page, state

    def _window(self, state: QueryState, oldest: datetime) -> dict[str, Any]:
        """since_id while it is inside X's 7 days; else a start_time (first run: back-fill)."""
        window: dict[str, Any] = {}
        if state.until_id:
            window["until_id"] = state.until_id
        if state.since_id and snowflake_time(state.since_id) > oldest:
            window["since_id"] = state.since_id
        elif state.since_id:
            window["start_time"] = oldest
        else:
            backfill = self.now() - timedelta(hours=self.settings.backfill_hours)
            window["start_time"] = max(backfill, oldest)
        return window

    def _parse(self, body: dict[str, Any]) -> Page:
        tweets = body.get("data") or []
        includes = body.get("includes")
        page = Page(posts=[], cursor={})
        if tweets and includes is None:
            page.notes.append(
                f"response without 'includes': {len(tweets)} tweets lack author details"
            )
        users = {
            str(user["id"]): user
            for user in (includes or {}).get("users") or []
            if isinstance(user, Mapping) and "id" in user
        }
        now = self.now()
        posts: dict[str, Post] = {}
        for tweet in tweets:
            try:
                post = tweet_post(tweet, users, now, page.notes)
            except (ValueError, KeyError, TypeError) as exc:
                user = (
                    users.get(str(tweet.get("author_id"))) if isinstance(tweet, Mapping) else None
                )
                payload = json_payload(tweet, user)
                page.rejected.append(Rejected(f"tweet {_tweet_id(tweet)}", describe(exc), payload))
                continue
            posts.setdefault(post.platform_id, post)  # newest version of an edited tweet wins
        page.posts = list(posts.values())
        return page

    @classmethod
    def reparse(cls, payload: str) -> Post:
        tweet, user = read_payload(payload)
        with as_value_errors():
            return tweet_post(
                tweet, {str(user.get("id")): user} if user else {}, datetime.now(UTC), []
            )

    # Compliance and replies

    def lookup_existing(self, platform_ids: Sequence[str]) -> dict[str, str | None]:
        """Current text per tweet id (the newest version if edited); None once not public."""
        found = self._lookup(platform_ids)
        newer = {
            tweet_id: str(history[-1])
            for tweet_id, tweet in found.items()
            if (history := tweet.get("edit_history_tweet_ids")) and str(history[-1]) != tweet_id
        }
        latest = self._lookup(sorted(set(newer.values()))) if newer else {}
        current = {
            tweet_id: latest.get(newer[tweet_id]) if tweet_id in newer else tweet
            for tweet_id, tweet in found.items()
        }
        return {
            tweet_id: str(tweet["text"]) if (tweet := current.get(tweet_id)) else None
            for tweet_id in platform_ids
        }

    def _lookup(self, tweet_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        lookup = self._guarded(self.client.get_tweets, "X tweet lookup")
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(tweet_ids), LOOKUP_BATCH):
            batch = list(tweet_ids[start : start + LOOKUP_BATCH])
            body = lookup(batch, tweet_fields=["edit_history_tweet_ids"])
            for tweet in body.get("data") or []:
                if isinstance(tweet, Mapping) and "id" in tweet and "text" in tweet:
                    found[str(tweet["id"])] = dict(tweet)
        return found

    def post_reply(self, in_reply_to: str, text: str) -> ReplyResult:
        if not self.settings.reply_enabled:
            raise SourceError(
                self.source,
                f"replies are disabled: set reply_enabled = true in [sources.{self.source}]",
            )
        text = text.strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            raise SourceError(
                self.source, f"a reply needs 1 to {MAX_REPLY_CHARS} characters, got {len(text)}"
            )
        request = {"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to}}
        if self.settings.dry_run:
            log.info("%s: dry run, would reply to %s: %s", self.source, in_reply_to, text)
            return ReplyResult(in_reply_to, text, dry_run=True, request=request)
        create = self._guarded(self.client.create_tweet, "X post reply", writes=True)
        body = create(text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True)
        reply_id = (body.get("data") or {}).get("id")
        if not reply_id:
            raise SourceError(self.source, "X post reply: the answer carries no tweet id")
        return ReplyResult(
            in_reply_to,
            text,
            dry_run=False,
            reply_id=str(reply_id),
            url=f"{TWEET_URL}{reply_id}",
            request=request,
        )

    # Errors

    def _guarded(
        self, method: Callable[..., Any], what: str, *, writes: bool = False
    ) -> Callable[..., dict[str, Any]]:
        """`method` with retries, readable `SourceError`s and a checked JSON object body.

        Keeps the method's name: tweepy's Paginator picks the pagination parameter by it.
        A write uses the user credentials and is not retried after a timeout or server
        error, since it may have gone through.
        """
        classifier = Classifier(
            transient=(lambda _exc: False) if writes else _transient,
            rate_limit_delay=self._rate_limit_delay,
        )

        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> dict[str, Any]:
            try:
                body = call_with_retries(
                    lambda: method(*args, **kwargs),
                    source=self.source,
                    what=what,
                    policy=self.policy,
                    classifier=classifier,
                    sleep=self.sleep,
                )
            except requests.JSONDecodeError as exc:
                raise SourceError(
                    self.source, f"{what}: malformed JSON in the answer ({exc})"
                ) from None
            except tweepy.HTTPException as exc:
                raise SourceError(self.source, self._http_problem(what, exc, writes)) from None
            except requests.RequestException as exc:
                raise SourceError(self.source, f"{what}: request failed: {exc}") from None
            if not isinstance(body, dict) or not _well_formed(body):
                raise SourceError(self.source, f"{what}: unexpected answer: {str(body)[:200]}")
            return body

        return guarded

    def _http_problem(self, what: str, exc: tweepy.HTTPException, writes: bool) -> str:
        status = exc.response.status_code
        detail = "; ".join(exc.api_messages) or exc.response.reason
        if status in (401, 403):
            variables = (
                ", ".join(
                    [
                        self.settings.api_key_env,
                        self.settings.api_secret_env,
                        self.settings.access_token_env,
                        self.settings.access_token_secret_env,
                    ]
                )
                if writes
                else self.settings.bearer_token_env
            )
            verb = "rejected" if status == 401 else "refused access with"
            return f"{what}: X {verb} the credentials in {variables} ({status}: {detail})"
        return f"{what}: X answered {status}: {detail}"

    def _rate_limit_delay(self, exc: BaseException) -> float | None:
        if not isinstance(exc, tweepy.TooManyRequests):
            return None
        if exc.reset_time is None:
            return DEFAULT_RATE_LIMIT_WAIT
        return max(0.0, exc.reset_time - self.clock()) + 1


def tweet_post(
    tweet: Any, users: Mapping[str, Mapping[str, Any]], now: datetime, errors: list[str]
) -> Post:
    """A `Post` from one API v2 tweet; an unreadable author is reported, not fatal."""
    if not isinstance(tweet, Mapping):
        raise ValueError("expected a JSON object")
    missing = [name for name in ("id", "text", "created_at") if name not in tweet]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    tweet_id = str(tweet["id"])
    history = tweet.get("edit_history_tweet_ids")
    first_version = str(history[0]) if isinstance(history, list) and history else tweet_id
    user = users.get(str(tweet.get("author_id")))
    author = None
    if user is not None:
        try:
            author = twitter_author(user, now)
        except (ValueError, KeyError, TypeError) as exc:
            errors.append(f"tweet {tweet_id}: author {user.get('id')}: {describe(exc)}")
    handle = author.handle if author else "i/web"
    replied_to = [
        ref.get("id")
        for ref in tweet.get("referenced_tweets") or []
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to"
    ]
    return Post.model_validate(
        {
            "platform": TwitterConnector.platform,
            "platform_id": first_version,  # stays the same across edits
            "text": tweet["text"],
            "url": f"https://x.com/{handle}/status/{tweet_id}",
            "language": tweet.get("lang"),
            "created_at": tweet["created_at"],
            "author": author,
            "metrics": _counts(tweet.get("public_metrics")),
            "parent_id": str(replied_to[0]) if replied_to else None,
            "raw": {"tweet": dict(tweet), "user": dict(user) if user else None},
        }
    )


def twitter_author(user: Mapping[str, Any], now: datetime) -> Author:
    created = datetime.fromisoformat(user["created_at"]) if user.get("created_at") else None
    return Author(
        platform_id=str(user["id"]),
        handle=user["username"],
        display_name=user.get("name"),
        created_at=created,
        account_age_days=max(0, (now - created).days) if created else None,
        followers=_counts(user.get("public_metrics")).get("followers_count"),
    )


def _counts(metrics: Any) -> dict[str, int]:
    if not isinstance(metrics, Mapping):
        return {}
    return {str(k): v for k, v in metrics.items() if isinstance(v, int) and v >= 0}


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, tweepy.TwitterServerError | requests.Timeout | requests.ConnectionError)


def _well_formed(body: dict[str, Any]) -> bool:
    return (
        isinstance(body.get("data", []), list | dict)
        and isinstance(body.get("meta", {}), dict)
        and isinstance(body.get("includes", {}), dict)
    )


def _optional_id(value: Any) -> str | None:
    return str(value) if value else None


def _tweet_id(tweet: Any) -> str:
    return str(tweet.get("id", "?")) if isinstance(tweet, Mapping) else "?"
