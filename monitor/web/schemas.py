"""The API's request and response models (the OpenAPI contract); domain code never imports them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from monitor.queue import QueueStatus


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in German.")


class ItemOut(BaseModel):
    """A queue item with the fields of `rufwacht queue list --json`."""

    id: int
    status: QueueStatus
    priority: int = Field(description="0–100, higher is more urgent.")
    platform: str
    platform_id: str
    brand: str
    text: str | None = Field(description="The post as plain text; None once deleted upstream.")
    sentiment: str | None
    troll_score: float | None
    reasons: list[str]
    category: str | None
    action: str | None
    escalate_to: str | None
    guideline: str | None = Field(description="The playbook id for the item's category.")
    url: str | None
    created_at: datetime
    due_at: datetime = Field(description="The SLA deadline.")


class ItemPageOut(BaseModel):
    items: list[ItemOut]
    total: int = Field(description="How many items match the filters in all.")
    limit: int
    offset: int


class AuthorOut(BaseModel):
    handle: str
    display_name: str | None
    followers: int | None
    account_age_days: int | None
    posts_last_24h: int | None


class ScoreOut(BaseModel):
    task: str
    label: str
    score: float
    reasons: list[str]
    model_version: str


class ItemDetailOut(ItemOut):
    """One item with what its page in the UI shows."""

    author: AuthorOut | None
    metrics: dict[str, Any]
    matched_brands: list[str]
    matched_keywords: list[str]
    scores: list[ScoreOut]
    category_reasons: list[str]
    action_reasons: list[str]
