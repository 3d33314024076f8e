"""Reddit search and new-item listings through praw, read-only with a script app's credentials.

Reddit listings run newest first and cannot be resumed from an arbitrary point, so each feed
(a subreddit search query, or a `comments`/`submissions` stream) is walked back to its cursor
first and then handed out oldest page first. A page's cursor is the newest `created_utc` it
covers plus the fullnames created shortly before that: Reddit's search index lags, so the
next walk re-reads that stretch and sends only what it has not sent yet.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import praw
import praw.exceptions
import prawcore
import requests

from classifiers.folding import fold
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
from connectors.capabilities import REPLY_LIMITS, ReplyResult
from connectors.live import HttpAdapter, credential
from connectors.query import build_queries, query_key, quote, unique
from connectors.retry import (
    DEFAULT_RATE_LIMIT_WAIT,
    Classifier,
    Clock,
    Sleep,
    call_with_retries,
)
from connectors.settings import RedditSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

PUBLIC_URL = "https://www.reddit.com"
"""Links for people point at Reddit itself, whatever `reddit_url` a proxy or test uses."""
MAX_QUERY_LENGTH = 512
MAX_REPLY_CHARS = REPLY_LIMITS["reddit"]
REDDIT_WEB = "https://www.reddit.com"
"""Where a permalink opens for people (`reddit_url` may point at a proxy or test server)."""
INDEX_LAG = timedelta(minutes=15)
CLOCK_SKEW = timedelta(minutes=5)
TIME_FILTERS = [
    ("hour", timedelta(hours=1)),
    ("day", timedelta(days=1)),
    ("week", timedelta(days=7)),
    ("month", timedelta(days=30)),
    ("year", timedelta(days=365)),
]
GONE = frozenset({"[deleted]", "[removed]"})
BARE_TERM = re.compile(r"\w+")
RAW_FIELDS = (
    "id",
    "name",
    "title",
    "selftext",
    "body",
    "permalink",
    "url",
    "created_utc",
    "edited",
    "score",
    "num_comments",
    "parent_id",
    "link_id",
    "author_fullname",
    "removed_by_category",
    "over_18",
)


def mentions_any(terms: Sequence[str]) -> Callable[[str], bool]:
    """A coarse pre-filter for streams: keeps texts containing a term as a whole word.

    Only narrows what is stored; the monitor's matcher makes the real decision.
    """
    alternatives = "|".join(re.escape(fold(term)) for term in unique(terms))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
    return lambda text: pattern.search(fold(text)) is not None


def time_filter(span: timedelta) -> str:
    """The narrowest Reddit search `t` that still covers `span` back from now."""
    return next((name for name, length in TIME_FILTERS if span <= length), "all")


@dataclass(frozen=True)
class FeedState:
    """One feed's cursor: the newest `created_utc` sent, and what was sent just before it."""

    newest_utc: float | None = None
    recent: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_cursor(cls, value: Any) -> FeedState:
        if not isinstance(value, Mapping) or not isinstance(value.get("newest_utc"), int | float):
            return cls()
        recent = value.get("recent") if isinstance(value.get("recent"), Mapping) else {}
        return cls(float(value["newest_utc"]), {str(k): float(v) for k, v in recent.items()})

    def to_cursor(self) -> dict[str, Any]:
        return {"newest_utc": self.newest_utc, "recent": self.recent} if self.newest_utc else {}

    def floor(self, backfill_from: float) -> float:
        """Oldest `created_utc` the next walk must look at."""
        if self.newest_utc is None:
            return backfill_from
        return self.newest_utc - INDEX_LAG.total_seconds()

    def advance(self, sent: Mapping[str, float]) -> FeedState:
        newest = max([*sent.values(), self.newest_utc or 0.0])
        keep_from = newest - INDEX_LAG.total_seconds()
        recent = {k: v for k, v in {**self.recent, **sent}.items() if v >= keep_from}
        return FeedState(newest, recent)


@dataclass(frozen=True)
class Feed:
    key: str
    what: str
    """How messages name the feed, e.g. `r/de+Finanzen search "..."`."""
    listing: Callable[[str], Iterator[Any]]
    """Builds the newest-first listing for a Reddit time filter."""
    prefiltered: bool


class RedditConnector(Connector):
    platform = "reddit"

    def __init__(
        self,
        source: str,
        reddit: praw.Reddit,
        settings: RedditSettings,
        terms: SearchTerms,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(source)
        self.reddit = reddit
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.accept = mentions_any(terms.brands)
        self.feeds = self._feeds(reddit_queries(terms))

    @classmethod
    def from_settings(
        cls,
        source: str,
        settings: RedditSettings,
        terms: SearchTerms,
        environ: Mapping[str, str],
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> RedditConnector:
        keys = {
            "client_id": credential(environ, source, settings.client_id_env, "Reddit client id"),
            "client_secret": credential(
                environ, source, settings.client_secret_env, "Reddit client secret"
            ),
        }
        if settings.publishes:
            keys["username"] = credential(environ, source, settings.username_env, "Reddit username")
            keys["password"] = credential(environ, source, settings.password_env, "Reddit password")
        session = requests.Session()
        adapter = HttpAdapter(settings.timeout_seconds)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        reddit = praw.Reddit(
            user_agent=settings.user_agent,
            oauth_url=settings.oauth_url,
            reddit_url=settings.reddit_url,
            check_for_updates=False,
            check_for_async=False,
            requestor_kwargs={"session": session},
            **keys,
        )
        try:
            return cls(source, reddit, settings, terms, sleep=sleep, clock=clock)
        except ValueError as exc:
            raise SourceError(source, f"cannot build the Reddit search query: {exc}") from None

    def _feeds(self, queries: Sequence[str]) -> list[Feed]:
        subreddits = "+".join(self.settings.subreddits)
        subreddit = self.reddit.subreddit(subreddits)
        feeds = [
            Feed(
                key=query_key("search-", f"{subreddits} {query}"),
                what=f"r/{subreddits} search {query!r}",
                listing=lambda t, q=query: subreddit.search(
                    q, sort="new", time_filter=t, limit=None
                ),
                prefiltered=False,
            )
            for query in queries
        ]
        streams: dict[str, Callable[[str], Iterator[Any]]] = {
            "comments": lambda _t: subreddit.comments(limit=None),
            "submissions": lambda _t: subreddit.new(limit=None),
        }
        feeds += [
            Feed(
                key=query_key(f"{stream}-", subreddits),
                what=f"r/{subreddits} {stream}",
                listing=streams[stream],
                prefiltered=True,
            )
            for stream in self.settings.streams
        ]
        return feeds

    # Fetching

    def fetch(self, cursor: Cursor) -> Iterator[Page]:
        states = {feed.key: cursor[feed.key] for feed in self.feeds if feed.key in cursor}
        for feed in self.feeds:
            for page, state in self._read(feed, FeedState.from_cursor(states.get(feed.key))):
                states[feed.key] = state.to_cursor()
                page.cursor = dict(states)
                yield page

    def _read(self, feed: Feed, state: FeedState) -> Iterator[tuple[Page, FeedState]]:
        now = self.clock()
        floor = state.floor(now - self.settings.backfill_hours * 3600)
        items, rejected = self._walk(
            feed, time_filter(timedelta(seconds=now - floor)), floor, state
        )
        if not items:
            yield Page(posts=[], cursor={}, rejected=rejected), state
            return
        items.reverse()
        size = self.settings.page_size
        for chunk in (items[start : start + size] for start in range(0, len(items), size)):
            page = self._parse(feed, chunk)
            page.rejected[:0] = rejected
            state = state.advance({vars(item)["name"]: vars(item)["created_utc"] for item in chunk})
            yield page, state
            rejected = []

    def _walk(
        self, feed: Feed, period: str, floor: float, state: FeedState
    ) -> tuple[list[Any], list[Rejected]]:
        """Items newer than `floor` not sent before, newest first, and the unusable ones."""
        listing = feed.listing(period)
        latest = self.clock() + CLOCK_SKEW.total_seconds()
        items: list[Any] = []
        rejected: list[Rejected] = []
        while (item := self._call(feed.what, lambda: next(listing, None))) is not None:
            data = vars(item)
            name, created = data.get("name"), data.get("created_utc")
            if not isinstance(name, str) or not isinstance(created, int | float):
                ref = f"{feed.what}: item {data.get('id', '?')}"
                rejected.append(Rejected(ref, "lacks name or created_utc", _payload(data)))
                continue
            if created > latest:  # would move the cursor past everything to come
                ref = f"{feed.what}: item {name}"
                rejected.append(Rejected(ref, "has created_utc in the future", _payload(data)))
                continue
            if created < floor:
                break
            if name not in state.recent:
                items.append(item)
        return items, rejected

    def _parse(self, feed: Feed, items: list[Any]) -> Page:
        page = Page(posts=[], cursor={})
        wanted = []
        for item in items:
            try:
                text = _public_text(vars(item))
            except (KeyError, TypeError) as exc:
                ref = f"{feed.what}: item {vars(item).get('name')}"
                page.rejected.append(Rejected(ref, describe(exc), _payload(vars(item))))
                continue
            if text is not None and (not feed.prefiltered or self.accept(text)):
                wanted.append(item)
        authors = self._authors({vars(item).get("author_fullname") for item in wanted} - {None})
        now = datetime.fromtimestamp(self.clock(), UTC)
        for item in wanted:
            data = vars(item)
            try:
                page.posts.append(reddit_post(data, authors, now))
            except (ValueError, KeyError, TypeError) as exc:
                ref = f"{feed.what}: item {data.get('name')}"
                author = authors.get(data.get("author_fullname") or "")
                page.rejected.append(Rejected(ref, describe(exc), _payload(data, author)))
        return page

    @classmethod
    def reparse(cls, payload: str) -> Post:
        data, author = read_payload(payload)
        authors = {data.get("author_fullname") or "": author} if author else {}
        with as_value_errors():
            return reddit_post(data, authors, datetime.now(UTC))

    def _authors(self, fullnames: set[str]) -> dict[str, Mapping[str, Any]]:
        """Account details in one request per 100 authors (search results carry only names)."""
        if not fullnames:
            return {}
        found = self._call(
            "Reddit author lookup",
            lambda: list(self.reddit.redditors.partial_redditors(sorted(fullnames))),
        )
        return {partial.fullname: vars(partial) for partial in found}

    # Compliance and replies

    def lookup_existing(self, platform_ids: Sequence[str]) -> dict[str, str | None]:
        """Current text per fullname (edits included); None once deleted or removed."""
        items = self._call(
            "Reddit info lookup", lambda: list(self.reddit.info(fullnames=list(platform_ids)))
        )
        current = {vars(item).get("name"): _public_text(vars(item)) for item in items}
        return {fullname: current.get(fullname) for fullname in platform_ids}

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
        kind, _, item_id = in_reply_to.partition("_")
        if kind not in ("t1", "t3") or not item_id:
            raise SourceError(self.source, f"cannot reply to {in_reply_to!r}: not a post fullname")
        request = {"thing_id": in_reply_to, "text": text}
        if self.settings.dry_run:
            log.info("%s: dry run, would reply to %s: %s", self.source, in_reply_to, text)
            return ReplyResult(in_reply_to, text, dry_run=True, request=request)
        target = self.reddit.comment(item_id) if kind == "t1" else self.reddit.submission(item_id)
        reply = self._call("Reddit post reply", lambda: target.reply(text))
        fields = vars(reply) if reply is not None else {}
        permalink = fields.get("permalink")
        return ReplyResult(
            in_reply_to,
            text,
            dry_run=False,
            reply_id=fields.get("name"),
            url=f"{REDDIT_WEB}{permalink}" if permalink else None,
            request=request,
        )

    # Errors

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """Run a praw call with rate-limit waits and readable `SourceError`s.

        prawcore already retries server errors and timeouts with jittered back-off (twice),
        so only rate limits are retried here.
        """
        classifier = Classifier(transient=lambda _exc: False, rate_limit_delay=_rate_limit_delay)
        try:
            return call_with_retries(
                call,
                source=self.source,
                what=what,
                policy=self.settings.retry_policy(),
                classifier=classifier,
                sleep=self.sleep,
            )
        except prawcore.PrawcoreException as exc:
            raise SourceError(self.source, f"{what}: {self._problem(exc)}") from None
        except praw.exceptions.PRAWException as exc:
            raise SourceError(self.source, f"{what}: Reddit refused: {exc}") from None
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            # praw builds objects from whatever JSON arrived; a wrong shape surfaces here.
            raise SourceError(self.source, f"{what}: unexpected answer ({exc!r})") from None

    def _problem(self, exc: prawcore.PrawcoreException) -> str:
        credentials = f"{self.settings.client_id_env}/{self.settings.client_secret_env}"
        if self.settings.publishes:
            credentials += f"/{self.settings.username_env}/{self.settings.password_env}"
        if isinstance(exc, prawcore.OAuthException):
            return f"Reddit rejected the credentials in {credentials} ({exc})"
        if isinstance(exc, prawcore.RequestException):
            return f"request failed after retries: {exc.original_exception}"
        if not isinstance(exc, prawcore.ResponseException):
            return str(exc)
        status = exc.response.status_code
        if isinstance(exc, prawcore.BadJSON):
            return "malformed JSON in the answer"
        if isinstance(exc, prawcore.InvalidToken) or status == 401:
            return f"Reddit rejected the credentials in {credentials} ({status})"
        if isinstance(exc, prawcore.Forbidden):
            return (
                f"Reddit refused access (403): a private, quarantined or banned subreddit, "
                f"or credentials in {credentials} without access"
            )
        if isinstance(exc, prawcore.Redirect | prawcore.NotFound):
            return f"not found ({status}): check the subreddit names {self.settings.subreddits}"
        if isinstance(exc, prawcore.ServerError):
            return f"Reddit server error {status}, still failing after prawcore's retries"
        return f"Reddit answered {status}"


def reddit_queries(terms: SearchTerms) -> list[str]:
    """Brand terms OR-ed; exclusions and keywords are left to the matcher (lucene syntax)."""
    brands = [quote(term, BARE_TERM) for term in unique(terms.brands)]
    return build_queries([brands], "", MAX_QUERY_LENGTH)


def reddit_post(
    data: Mapping[str, Any], authors: Mapping[str, Mapping[str, Any]], now: datetime
) -> Post:
    """A `Post` from a praw submission's or comment's attributes (`vars(item)`)."""
    name = data["name"]
    if not name.startswith(("t1_", "t3_")):
        raise ValueError(f"{name} is neither a submission nor a comment")
    redditor = data.get("author")  # praw turns "[deleted]" into None
    author = None
    if redditor is not None:
        details = authors.get(data.get("author_fullname") or "", {})
        created = details.get("created_utc")
        created_at = datetime.fromtimestamp(created, UTC) if created else None
        author = Author(
            platform_id=data.get("author_fullname"),
            handle=str(redditor),
            created_at=created_at,
            account_age_days=max(0, (now - created_at).days) if created_at else None,
        )
    raw = {key: data[key] for key in RAW_FIELDS if key in data}
    raw.update(subreddit=str(data.get("subreddit")), author=str(redditor) if redditor else None)
    return Post.model_validate(
        {
            "platform": RedditConnector.platform,
            "platform_id": name,
            "text": _text(data),
            "url": PUBLIC_URL + data["permalink"],
            "created_at": datetime.fromtimestamp(data["created_utc"], UTC),
            "author": author,
            "metrics": {
                k: data[k] for k in ("score", "num_comments") if isinstance(data.get(k), int)
            },
            "parent_id": data.get("parent_id"),
            "raw": raw,
        }
    )


def _payload(data: Mapping[str, Any], author: Mapping[str, Any] | None = None) -> str:
    """A praw item's fields (and its author's details) as JSON, readable by `reparse`."""
    item = {key: data[key] for key in (*RAW_FIELDS, "author", "subreddit") if key in data}
    return json_payload(item, author)


def _text(data: Mapping[str, Any]) -> str:
    if "body" in data:
        return str(data["body"])
    title, selftext = str(data["title"]), str(data.get("selftext") or "")
    return f"{title}\n\n{selftext}" if selftext else title


def _public_text(data: Mapping[str, Any]) -> str | None:
    """The text as Reddit shows it now, or None if the author or a moderator took it down."""
    if data.get("removed_by_category") or data.get("body") in GONE or data.get("selftext") in GONE:
        return None
    return _text(data)


def _rate_limit_delay(exc: BaseException) -> float | None:
    if not isinstance(exc, prawcore.TooManyRequests):
        return None
    headers = exc.response.headers
    for header in ("retry-after", "x-ratelimit-reset"):
        try:
            return float(headers[header])
        except (KeyError, ValueError):
            continue
    return DEFAULT_RATE_LIMIT_WAIT
