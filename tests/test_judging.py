"""`rufwacht classify` and the queue judge every post alike: one judging path, one history."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.replay import ReplayConnector, demo_feed_dir
from monitor.classify import classify_lines
from monitor.judging import Judge
from monitor.pipeline import Pipeline
from monitor.queue import item_summary
from monitor.queue.sla import SlaClock
from monitor.scoring import Scorer
from monitor.settings import SlaSettings, default_settings
from monitor.storage.database import Database
from monitor.storage.models import PostRecord
from tests.conftest import sqlite_url


@pytest.fixture(scope="module")
def judge() -> Judge:
    """The shipped default config's matcher and models, loaded once for this file."""
    return Judge.from_settings(default_settings())


def demo_lines() -> list[str]:
    return (demo_feed_dir() / "demo.jsonl").read_text("utf-8").splitlines()


def test_classify_and_the_queue_agree_on_every_demo_post(judge: Judge, tmp_path: Path) -> None:
    """Flag, priority, troll score, category, action and playbook, per post, both ways."""
    classified = {
        out["id"]: (
            out["flagged"],
            out["priority"],
            out["troll"]["score"],
            out["category"]["label"],
            out["action"]["label"],
            out["action"]["escalate_to"],
            out["guideline"],
        )
        for out in classify_lines(demo_lines(), judge)
    }
    db = Database(sqlite_url(tmp_path))
    db.migrate()
    report = Pipeline(db, judge, SlaClock(SlaSettings())).poll(
        ReplayConnector("replay", demo_feed_dir())
    )
    with db.transaction() as session:
        posts = session.query(PostRecord).all()
        stored = {
            post.platform_id: (
                post.verdict.flagged,
                post.verdict.priority,
                post.verdict.scores["troll"],
                post.verdict.category["label"],
                post.verdict.action["label"],
                post.verdict.action["escalate_to"],
                post.verdict.guideline,
            )
            for post in posts
            if post.verdict is not None and post.verdict.category and post.verdict.action
        }
        items = {
            post.platform_id: item_summary(post.queue_item)
            for post in posts
            if post.queue_item is not None
        }
    db.dispose()
    assert report.stored == len(classified) == len(stored)
    assert stored == classified
    assert set(items) == {pid for pid, (flagged, *_) in classified.items() if flagged}
    for pid, item in items.items():
        triage = (item["category"], item["action"], item["escalate_to"], item["guideline"])
        assert triage == classified[pid][3:], pid
    assert 0 < len(items) < len(classified)


def test_an_authors_repeated_post_weighs_the_same_in_one_batch_or_many(judge: Judge) -> None:
    """History is each author's earlier posts, however the stream is cut into batches."""
    text = "Interessant, dass die Telekom wieder nichts sagt. Zufall? 🤔 Denkt mal drüber nach."
    lines = [
        f'{{"id": "r{n}", "platform": "twitter", "text": "{text}", '
        f'"created_at": "2026-11-20T0{n}:00:00Z", "author": {{"handle": "fragensteller"}}}}'
        for n in range(6)
    ]
    whole = [out["troll"]["score"] for out in classify_lines(lines, judge)]
    models = judge.scorer
    pairs = Scorer(models.sentiment, models.offensive, models.troll_scorer, batch_size=2)
    cut = [
        out["troll"]["score"]
        for out in classify_lines(lines, Judge(judge.matcher, pairs, judge.flagging, judge.triage))
    ]
    assert cut == whole
    assert whole[-1] > whole[0]  # the repeats are what makes the last one a troll
