"""Reviewer decisions as training data: one JSON line per decision, people pseudonymised.

What the team decided about a post (category, sentiment, offensive, troll, false positive) is
exported with the post's text, the model's prediction it confirms or corrects and that model's
version, so a retraining notebook can learn from corrections and evaluate on them. Handles,
display names and reviewer names never leave the database; `docs/labels.md` is the format.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.pseudonyms import Pseudonymiser
from monitor.queue.labels import LabelTask
from monitor.queue.queries import items_by_id
from monitor.storage.models import PostRecord, QueueItem, ReviewLabel, Score, UserRecord

FORMAT = "rufwacht-labels-1"
"""Each line's `format`: bumped when a field changes meaning."""

EXPORT_TASKS: dict[str, tuple[LabelTask, ...]] = {
    "sentiment": (LabelTask.SENTIMENT,),
    "offensive": (LabelTask.OFFENSIVE,),
    "troll": (LabelTask.TROLL,),
    "triage": (LabelTask.CATEGORY, LabelTask.FALSE_POSITIVE),
}
"""`--task` (a model's task) → the reviewer decisions that train or test it."""


def export_labels(
    session: Session,
    path: Path,
    pseudonyms: Pseudonymiser,
    since: datetime | None = None,
    task: str | None = None,
) -> int:
    """Write the decisions to `path` as JSON lines (an empty file when there are none);
    returns how many lines were written."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in label_records(session, pseudonyms, since, task):
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def label_records(
    session: Session,
    pseudonyms: Pseudonymiser,
    since: datetime | None = None,
    task: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Each reviewer's latest decision per post and label task, oldest first; decisions on
    posts deleted upstream are left out. `since` counts by when the decision was made."""
    if task is not None and task not in EXPORT_TASKS:
        raise ValueError(f"unknown task {task!r}; one of {', '.join(EXPORT_TASKS)}")
    latest = _latest_per_reviewer(_decisions(session, task))
    by_question: dict[tuple[int, str], list[ReviewLabel]] = defaultdict(list)
    for label in latest:
        by_question[(label.item_id, label.task)].append(label)
    posts = {
        item.id: item.post for item in items_by_id(session, {label.item_id for label in latest})
    }
    roles = _roles(session, {label.reviewer_id for label in latest if label.reviewer_id})
    for label in sorted(latest, key=lambda entry: entry.id):
        if since is not None and label.created_at < since:
            continue
        post = posts[label.item_id]
        answers = Counter(other.label for other in by_question[(label.item_id, label.task)])
        yield _record(label, post, answers, roles.get(label.reviewer_id or -1), pseudonyms)


def _decisions(session: Session, task: str | None) -> list[ReviewLabel]:
    """Every decision on a post whose text is still there (of one task's label tasks)."""
    query = (
        select(ReviewLabel)
        .join(QueueItem, QueueItem.id == ReviewLabel.item_id)
        .join(PostRecord, PostRecord.id == QueueItem.post_id)
        .where(PostRecord.text.is_not(None), PostRecord.deleted_at.is_(None))
        .order_by(ReviewLabel.id)
    )
    if task is not None:
        query = query.where(ReviewLabel.task.in_([t.value for t in EXPORT_TASKS[task]]))
    return list(session.scalars(query))


def _latest_per_reviewer(labels: Iterable[ReviewLabel]) -> list[ReviewLabel]:
    """A reviewer who changed their mind counts once, with their last word."""
    latest: dict[tuple[int, str, object], ReviewLabel] = {}
    for label in labels:  # in id order: later decisions replace earlier ones
        latest[(label.item_id, label.task, label.reviewer_id or label.reviewer_name)] = label
    return list(latest.values())


def _roles(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    query = select(UserRecord.id, UserRecord.role).where(UserRecord.id.in_(user_ids))
    rows = session.execute(query)
    return {user_id: role.value for user_id, role in rows}


def _record(
    label: ReviewLabel,
    post: PostRecord,
    answers: Counter[str],
    role: str | None,
    pseudonyms: Pseudonymiser,
) -> dict[str, Any]:
    reviewer = (
        pseudonyms.reviewer(label.reviewer_id)
        if label.reviewer_id is not None
        else pseudonyms.reviewer_name(label.reviewer_name)
    )
    verdict = post.verdict
    return {
        "format": FORMAT,
        "id": label.id,
        "task": label.task,
        "label": label.label,
        "model_label": label.model_label,
        "model_version": label.model_version,
        "corrected": label.model_label is not None and label.label != label.model_label,
        "prediction": _prediction(label, post),
        "models": dict(verdict.models) if verdict else {},
        "decided_at": label.created_at.isoformat(),
        "reviewer": {"id": reviewer, "role": role},
        "reviewers": sum(answers.values()),
        "answers": dict(sorted(answers.items())),
        "disagreement": len(answers) > 1,
        "post": {
            "id": pseudonyms.post(post.platform, post.platform_id),
            "platform": post.platform,
            "language": post.language,
            "created_at": post.created_at.isoformat(),
            "brands": list(post.matched_brands),
            "text": post.text,
            "author": (
                pseudonyms.author(post.author.platform, post.author.key) if post.author else None
            ),
        },
    }


def _prediction(label: ReviewLabel, post: PostRecord) -> dict[str, Any] | None:
    """What the model said that the reviewer judged: its probabilities where stored."""
    if label.model_label is None:
        return None
    prediction: dict[str, Any] = {"label": label.model_label, "model_version": label.model_version}
    if (score := _score(post, label.task, label.model_version)) is not None:
        prediction["probabilities"] = dict(score.probabilities)
    elif label.task == LabelTask.CATEGORY and _judged_by(post, "triage", label.model_version):
        prediction["confidence"] = post.verdict.category.get("confidence")  # type: ignore[union-attr]
    return prediction


def _judged_by(post: PostRecord, task: str, model_version: str | None) -> bool:
    verdict = post.verdict
    return bool(verdict and verdict.category and verdict.models.get(task) == model_version)


def _score(post: PostRecord, task: str, model_version: str | None) -> Score | None:
    return next(
        (s for s in post.scores if s.task == task and s.model_version == model_version), None
    )
