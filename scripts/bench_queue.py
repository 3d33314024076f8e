"""`make bench`, queue part: latency of one `queue list` page (50 items and the count), as the
web UI and API ask for it, on SQLite with 10,000 and 100,000 synthetic items.

Run alone with `python -m scripts.bench_queue`. Rows are bulk-inserted with SQLAlchemy core;
each page is timed under a mix of filters: none, status, brand scope, SLA state, category,
priority band, longest waiting first, and a later page.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path
from statistics import quantiles
from typing import Any

from sqlalchemy import insert

from monitor.queue import QueueFilter, count_items, item_summary, list_items
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, QueueItem, Score, VerdictRecord

SIZES = (10_000, 100_000)
PAGE = 50
RUNS = 200
CHUNK = 5_000
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BRANDS = ("Deutsche Bahn", "Telekom", "Vodafone", "DHL")
CATEGORIES = ("complaint",) * 6 + ("troll", "question", "crisis", "threat")
FILTERS = (
    QueueFilter(now=NOW),
    QueueFilter(status="new", now=NOW),  # type: ignore[arg-type]
    QueueFilter(visible_brands=["Telekom", "DHL"], status="new", now=NOW),  # type: ignore[arg-type]
    QueueFilter(sla="overdue", now=NOW),  # type: ignore[arg-type]
    QueueFilter(sla="near", visible_brands=["DHL"], now=NOW),  # type: ignore[arg-type]
    QueueFilter(category="crisis", now=NOW),
    QueueFilter(band="high", platform="reddit", now=NOW),  # type: ignore[arg-type]
    QueueFilter(sort="waiting", status="new", now=NOW),  # type: ignore[arg-type]
)


def fill(db: Database, size: int) -> None:
    """`size` judged posts, each queued, with its three scores and its verdict."""
    rng = random.Random(size)
    with db.engine.begin() as connection:
        for start in range(1, size + 1, CHUNK):
            rows = [_rows(n, rng) for n in range(start, min(start + CHUNK, size + 1))]
            for table, key in ((PostRecord, 0), (VerdictRecord, 1), (QueueItem, 2)):
                connection.execute(insert(table), [row[key] for row in rows])
            connection.execute(insert(Score), [score for row in rows for score in row[3]])


def _rows(n: int, rng: random.Random) -> tuple[dict[str, Any], ...]:
    posted = NOW - timedelta(minutes=rng.randrange(60 * 24 * 30))
    due = posted + timedelta(hours=rng.choice((1, 4, 8, 24)))
    category, brand = rng.choice(CATEGORIES), rng.choice(BRANDS)
    priority = rng.randrange(71, 101) if category in ("crisis", "threat") else rng.randrange(71)
    post = {
        "id": n,
        "platform": rng.choice(("twitter", "twitter", "reddit")),
        "platform_id": str(n),
        "source": "bench",
        "text": f"@{brand} Beschwerde Nummer {n}: schon wieder kaputt, unzumutbar!",
        "created_at": posted,
        "fetched_at": posted,
        "metrics": {"like_count": rng.randrange(100)},
        "raw": {},
        "matched_brands": [brand],
        "matched_keywords": ["kaputt*", "unzumutbar"],
    }
    verdict = {
        "post_id": n,
        "flagged": True,
        "priority": priority,
        "brand": brand,
        "reasons": ["Negativ (85%)"],
        "matches": {},
        "thresholds": {},
        "scores": {},
        "spam": {},
        "models": {},
        "category": {"label": category},
        "action": {"label": "reply"},
        "judged_at": posted,
    }
    item = {
        "post_id": n,
        "platform": post["platform"],
        "brand": brand,
        "status": "new" if rng.random() < 0.7 else "deleted",
        "priority": priority,
        "category": category,
        "action": "reply",
        "reasons": ["Negativ (85%)"],
        "created_at": posted,
        "updated_at": posted,
        "waiting_since": posted,
        "due_at": due,
        "sla_near_at": due - (due - posted) / 4,
    }
    scores = [
        {"post_id": n, "task": task, "label": "x", "score": 0.5, "model_version": "bench"}
        for task in ("sentiment", "offensive", "troll")
    ]
    return post, verdict, item, scores


def page_ms(db: Database, query: QueueFilter, offset: int) -> float:
    """One page as `queue list --json` builds it: the items, their summaries, the count."""
    start = time.perf_counter()
    with db.transaction() as session:
        [item_summary(item, NOW) for item in list_items(session, query, PAGE, offset)]
        count_items(session, query)
    return (time.perf_counter() - start) * 1000


def latency(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{Path(scratch) / 'bench.db'}")
        db.migrate()
        fill(db, size)
        offsets = cycle((0, 0, 0, PAGE * 20))  # every fourth page is page 21
        runs = [(query, next(offsets)) for _, query in zip(range(RUNS), cycle(FILTERS))]
        for query, offset in runs[: len(FILTERS)]:  # warm the page cache
            page_ms(db, query, offset)
        times = [page_ms(db, query, offset) for query, offset in runs]
        db.dispose()
    cuts = quantiles(times, n=20)
    return {f"queue_page_{size}_p50_ms": cuts[9], f"queue_page_{size}_p95_ms": cuts[18]}


def figures() -> dict[str, float]:
    return {name: value for size in SIZES for name, value in latency(size).items()}


if __name__ == "__main__":
    print(json.dumps({name: round(value, 1) for name, value in figures().items()}))
