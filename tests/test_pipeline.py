"""A post flows from a connector through match → score → flag → queue on real storage."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.base import Connector, Cursor, Page, Post, SourceError
from connectors.replay import ReplayConnector
from monitor.pipeline import Pipeline
from monitor.queue import QueueFilter, list_items
from monitor.queue.priority import band_of
from monitor.settings import Settings
from monitor.storage.database import Database
from monitor.storage.models import PostRecord, Score, SourceState
from tests.factories import T0, author, post


class ListConnector(Connector):
    """Serves fixed pages after the cursor and can fail after a number of pages once."""

    platform = "twitter"

    def __init__(self, pages: list[list[Post]], fail_after: int | None = None) -> None:
        super().__init__("twitter")
        self.pages = pages
        self.fail_after = fail_after

    @classmethod
    def from_settings(cls, source, settings, terms, environ):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    @classmethod
    def reparse(cls, payload):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def fetch(self, cursor: Cursor) -> Iterator[Page]:
        for index in range(int(cursor.get("page", 0)), len(self.pages)):
            if self.fail_after is not None and index >= self.fail_after:
                self.fail_after = None
                raise SourceError(self.source, "connection reset by peer")
            yield Page(self.pages[index], {"page": index + 1})


@pytest.fixture
def pipeline(settings: Settings, db: Database) -> Pipeline:
    return Pipeline.from_settings(settings, db)


def queued_texts(pipeline: Pipeline) -> list[str]:
    with pipeline.db.transaction() as session:
        return [item.post.text or "" for item in list_items(session)]


def test_complaint_is_queued_with_scores_reasons_and_sla(pipeline: Pipeline) -> None:
    complaint = "@DB_Bahn ICE 578 fällt schon wieder aus, keine Durchsage, ich komme zu spät zur Arbeit. Unzumutbar!"
    posted = T0 + timedelta(minutes=1)
    report = pipeline.poll(ListConnector([[post(complaint, created_at=posted)]]))
    assert (report.stored, report.flagged) == (1, 1)
    with pipeline.db.transaction() as session:
        [item] = list_items(session, QueueFilter(status="new"))
        assert item.brand == "Deutsche Bahn"
        # Monday 8:01 in Berlin: the band's business hours all fall on the same day, except
        # the low band's 24, which the wall-clock cap cuts to 24
        hours = getattr(pipeline.clock.settings.hours, band_of(item.priority).value)
        assert item.due_at == posted + timedelta(hours=min(hours, 24))
        assert any(r.startswith("Negativ") for r in item.reasons)
        assert "unzumutbar" in item.post.matched_keywords
        tasks = {s.task: s.model_version for s in item.post.scores}
        assert set(tasks) == {"sentiment", "offensive", "troll"}
        assert all(tasks.values())


def test_praise_with_a_negative_keyword_is_not_queued(pipeline: Pipeline) -> None:
    praise = "Ich hasse Montage, aber der Vodafone-Techniker hat heute alles repariert. Danke!"
    report = pipeline.poll(ListConnector([[post(praise)]]))
    assert (report.stored, report.flagged) == (1, 0)
    with pipeline.db.transaction() as session:
        stored = session.scalars(select(PostRecord)).one()
        assert stored.matched_brands == ["Vodafone"]
        assert stored.matched_keywords == ["hass*"]


def test_brand_word_in_another_sense_is_not_queued(pipeline: Pipeline) -> None:
    texts = [
        "Stau auf der Autobahn A7, schon wieder eine Stunde verloren. Katastrophe!",
        "Meine Laufbahn als Trainer ist vorbei, ich hasse diesen Verein.",
    ]
    report = pipeline.poll(ListConnector([[post(text) for text in texts]]))
    assert (report.stored, report.flagged) == (2, 0)


def test_crash_mid_poll_refetches_without_gap_or_duplicate(pipeline: Pipeline) -> None:
    pages = [
        [post(f"Die S-Bahn hat heute {n} Minuten Verspätung, furchtbar.") for n in range(p, p + 3)]
        for p in (0, 3, 6)
    ]
    connector = ListConnector(pages, fail_after=2)
    first = pipeline.poll(connector)
    assert first.failure == "connection reset by peer"
    assert first.stored == 6
    second = pipeline.poll(connector)
    assert (second.failure, second.stored) == (None, 3)
    third = pipeline.poll(ListConnector(pages))  # a fresh client re-reading everything
    assert third.stored == 0
    with pipeline.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PostRecord)) == 9
        assert session.scalar(select(func.count()).select_from(Score)) == 27
        state = session.get(SourceState, "twitter")
        assert state is not None and state.status == "ok"


def test_failing_source_is_marked_and_reports_the_problem(pipeline: Pipeline) -> None:
    report = pipeline.poll(ListConnector([[post("Telekom Hotline nervt")]], fail_after=0))
    assert report.failure == "connection reset by peer"
    with pipeline.db.transaction() as session:
        state = session.get(SourceState, "twitter")
        assert state is not None
        assert (state.status, state.last_error) == ("failing", "connection reset by peer")


def test_repeated_insinuations_of_a_new_account_raise_its_troll_score(pipeline: Pipeline) -> None:
    text = "Interessant, dass die Telekom Kundendaten angeblich sicher speichert. Wer's glaubt 🤔"
    new_account = author(handle="wahrheit_2026", account_age_days=6, followers=3, posts_last_24h=60)
    posts = [
        post(
            text.replace("Interessant", ["Interessant", "Spannend", "Komisch"][n % 3]),
            author=new_account,
        )
        for n in range(8)
    ]
    pipeline.poll(ListConnector([posts]))
    with pipeline.db.transaction() as session:
        trolls = session.scalars(
            select(Score).where(Score.task == "troll").order_by(Score.id)
        ).all()
    assert trolls[-1].score > trolls[0].score
    assert any("gleich" in reason for reason in trolls[-1].reasons)


def test_bad_lines_are_logged_with_source_and_line_and_the_rest_is_stored(
    pipeline: Pipeline, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    feed = tmp_path / "feed.jsonl"
    good = {"id": "r1", "platform": "twitter", "text": "DHL Paket wieder nicht zugestellt!"}
    feed.write_text(
        json.dumps(good) + "\n{broken json\n" + json.dumps({"id": "r2"}) + "\n", "utf-8"
    )
    with caplog.at_level(logging.ERROR):
        report = pipeline.poll(ReplayConnector("replay", feed))
    assert report.stored == 1
    assert "replay: feed.jsonl line 2" in caplog.text
    assert "replay: feed.jsonl line 3: a post needs the fields 'id' and 'text'" in caplog.text
