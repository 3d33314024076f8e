"""Reviewer decisions: a person confirms or corrects what the models said about an item's post.

Each decision is a new `ReviewLabel` row with the model's label and version next to the
reviewer's, so evaluation and retraining know which model a correction concerns.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from classifiers.triage import CATEGORIES
from monitor.access import policies
from monitor.access.policies import authorize
from monitor.queue.audit import record
from monitor.queue.workflow import WorkflowError
from monitor.storage.models import QueueItem, ReviewLabel, UserRecord


class LabelTask(StrEnum):
    CATEGORY = "category"
    SENTIMENT = "sentiment"
    OFFENSIVE = "offensive"
    TROLL = "troll"
    FALSE_POSITIVE = "false_positive"
    """Whether the post should have been flagged at all."""


CHOICES: dict[LabelTask, tuple[str, ...]] = {
    LabelTask.CATEGORY: CATEGORIES,
    LabelTask.SENTIMENT: ("negative", "neutral", "positive"),
    LabelTask.OFFENSIVE: ("offensive", "other"),
    LabelTask.TROLL: ("troll", "not_troll"),
    LabelTask.FALSE_POSITIVE: ("false_positive", "relevant"),
}


def model_said(item: QueueItem, task: LabelTask) -> tuple[str | None, str | None]:
    """The model's label and version for `task` on the item's post (None where none ran)."""
    post = item.post
    verdict = post.verdict
    if task in (LabelTask.SENTIMENT, LabelTask.OFFENSIVE, LabelTask.TROLL):
        score = next((s for s in reversed(post.scores) if s.task == task.value), None)
        return (score.label, score.model_version) if score else (None, None)
    triage_version = verdict.models.get("triage") if verdict else None
    if task is LabelTask.CATEGORY:
        category = (verdict.category if verdict else None) or {}
        return category.get("label"), triage_version
    return "relevant", triage_version


def add_label(
    session: Session, user: UserRecord, item: QueueItem, task: LabelTask | str, label: str
) -> ReviewLabel:
    """Store the reviewer's decision; a label equal to the model's confirms it."""
    authorize(policies.can_label(user, item))
    try:
        task = LabelTask(task)
    except ValueError as exc:
        tasks = ", ".join(LabelTask)
        raise WorkflowError(f"Unbekannte Bewertung {task!r}; möglich: {tasks}.") from exc
    if label not in CHOICES[task]:
        choices = ", ".join(CHOICES[task])
        raise WorkflowError(f"Unbekanntes Label {label!r} für {task.value}; möglich: {choices}.")
    model_label, model_version = model_said(item, task)
    entry = ReviewLabel(
        item_id=item.id,
        reviewer_id=user.id,
        reviewer_name=user.name,
        task=task.value,
        model_label=model_label,
        label=label,
        model_version=model_version,
    )
    session.add(entry)
    details = {"task": task.value, "label": label, "model_label": model_label}
    record(session, item, user, "label", item.status, item.status, details=details)
    session.flush()  # the caller shows the new label with its id
    return entry
