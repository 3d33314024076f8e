"""The API's request and response models (the OpenAPI contract); domain code never imports them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from classifiers.triage import ACTION_NAMES
from monitor.access.roles import Role
from monitor.guidance.checker import Severity
from monitor.guidance.playbooks import Category
from monitor.guidance.tone import Tone
from monitor.queue import QueueStatus
from monitor.queue.bulk import BulkAction
from monitor.queue.labels import LabelTask
from monitor.queue.priority import Band, Sort
from monitor.queue.sla import SlaState
from monitor.queue.states import EscalationTeam
from monitor.web.filters import ISO_DAY
from monitor.web.views import MAX_PAGE_SIZE, PAGE_SIZE

MAX_TEXT = 10_000
MAX_NOTE = 2_000
MAX_BULK = 200
MAX_OFFSET = 10**9
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A database id or version: positive and within a 32-bit column."""


def iso_day(value: object) -> object:
    """Only `JJJJ-MM-TT` (or a date): pydantic would also take a number as a Unix time."""
    if isinstance(value, date) or (isinstance(value, str) and ISO_DAY.fullmatch(value)):
        return value
    raise ValueError("kein Tag im Format JJJJ-MM-TT")


Day = Annotated[date, BeforeValidator(iso_day)]
"""A local calendar day of the queue's day filters (`monitor.web.filters.DAYS`)."""
Version = Field(
    ge=1, le=MAX_ID, description="The item's `version` as last read; a stale one gets 409."
)


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in German.")


class RequestBody(BaseModel):
    """A request body: unknown fields are refused, so a misspelt one never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


class ItemOut(BaseModel):
    """A queue item with the fields of `rufwacht queue list --json`."""

    id: int
    status: QueueStatus
    priority: int = Field(description="0–100, higher is more urgent.")
    band: Band = Field(description="The priority band the queue shows.")
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
    waiting_since: datetime = Field(description="Since when the author waits for an answer.")
    due_at: datetime = Field(description="The SLA deadline.")
    sla: SlaState = Field(description="Where the item stands against its deadline now.")
    sla_breached_at: datetime | None = Field(description="When the deadline was missed, once.")
    recheck: Literal["unflagged"] | None = Field(
        description="Marked for a second look: `unflagged` when `rufwacht rescore` found that "
        "the champion model would no longer queue the post."
    )
    version: int = Field(description="Send it back with every change (optimistic locking).")
    assignee: str | None = Field(description="The name of the user working on the item.")


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


class StaleOut(ErrorOut):
    """409: someone else changed the item first; here is how it stands now."""

    item: ItemOut | None = Field(description="The item's fresh state; None once it is gone.")


class AssignIn(RequestBody):
    user: str = Field(
        min_length=1, max_length=64, description="Who gets the item; your own name takes it."
    )
    version: int = Version


class FindingOut(BaseModel):
    severity: Severity
    rule: str
    message: str
    start: int
    end: int


class DraftOut(BaseModel):
    id: int
    status: str = Field(description="draft, submitted, approved, rejected or sent.")
    text: str
    author: str | None
    saved_reply_id: int | None
    findings: list[FindingOut]
    approver: str | None
    note: str | None = Field(description="The approver's note on a rejection.")
    override_reason: str | None
    sent_via: str | None
    sent_link: str | None


class DraftResultOut(BaseModel):
    draft: DraftOut
    item: ItemOut


class DraftIn(RequestBody):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    saved_reply_id: Id | None = None
    submit: bool = Field(default=True, description="false keeps it a draft.")
    version: int = Version


class ApproveIn(RequestBody):
    override_reason: str | None = Field(
        default=None, max_length=MAX_NOTE, description="A lead's reason to pass a block finding."
    )
    version: int = Version


class RejectIn(RequestBody):
    note: str = Field(min_length=1, max_length=MAX_NOTE)
    version: int = Version


class TransitionIn(RequestBody):
    to: QueueStatus
    comment: str | None = Field(default=None, max_length=MAX_NOTE)
    team: EscalationTeam | None = Field(default=None, description="Needed to escalate.")
    version: int = Version


class SendIn(RequestBody):
    mode: Literal["dry_run", "posted", "by_hand"] = Field(
        default="dry_run",
        description="dry_run posts nothing; posted posts through the item's source where"
        " posting is on (reply_enabled, not dry_run); by_hand records a reply posted by hand.",
    )
    link: str | None = Field(default=None, max_length=2_000, description="Needed for by_hand.")
    version: int = Version


class LabelIn(RequestBody):
    task: LabelTask
    label: str = Field(min_length=1, max_length=64)


class LabelOut(BaseModel):
    id: int
    task: str
    label: str
    model_label: str | None
    model_version: str | None
    reviewer: str


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None = Field(description="None for what Rufwacht did by itself.")
    actor_name: str
    action: str
    from_status: str | None
    to_status: str | None
    comment: str | None
    details: dict[str, Any]


class FilterIn(RequestBody):
    """The queue's filters (`None`: any); the caller's brand scope applies on top."""

    brand: str | None = Field(default=None, min_length=1, max_length=200)
    platform: str | None = Field(default=None, min_length=1, max_length=32)
    status: QueueStatus | None = None
    category: Category | None = None
    action: str | None = Field(
        default=None, json_schema_extra={"enum": list(ACTION_NAMES)}, description="Next action."
    )
    band: Band | None = Field(default=None, description="Priority band.")
    sla: SlaState | None = Field(default=None, description="Only waiting items are near/overdue.")
    recheck: Literal["unflagged"] | None = Field(
        default=None, description="Only items a rescore marked for a second look."
    )
    assignee: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="`me`, `none` (nobody assigned) or a user's name.",
    )
    von: Day | None = Field(
        default=None,
        description="Only posts published on or after this day (inclusive; `[digest] timezone`).",
    )
    bis: Day | None = Field(
        default=None,
        description="Only posts published on or before this day (inclusive; `[digest] timezone`).",
    )
    sort: Sort = Field(default=Sort.URGENT, description="Most urgent or longest waiting first.")


class ItemQuery(FilterIn):
    """`GET /items`: the filters and one page."""

    limit: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class BulkIn(RequestBody):
    """Either `ids` or `filter` chooses the items; items the caller may not see are never
    touched."""

    action: BulkAction
    ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_BULK)
    filter: FilterIn | None = Field(
        default=None, description="Every item matching it (at most 1000; the brand scope applies)."
    )
    versions: dict[Id, Id] = Field(
        default_factory=dict, description="Item id → the version seen; missing: as it stands."
    )
    assignee: str | None = Field(default=None, min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=MAX_NOTE)
    team: EscalationTeam | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> BulkIn:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("genau eines von ids und filter angeben")
        return self


class BulkResultOut(BaseModel):
    item_id: int
    ok: bool
    message: str


class BulkOut(BaseModel):
    results: list[BulkResultOut]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: Role
    brands: list[str] | None = Field(description="None: every brand.")
    active: bool
    on_shift: bool


class ShiftIn(RequestBody):
    on_shift: bool = Field(
        strict=True, description="true begins the caller's shift, false ends it."
    )


class UserIn(RequestBody):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")
    role: Role
    password: str = Field(min_length=10, max_length=1024)
    brands: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, max_length=100, description="None: every brand."
    )


class SavedReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    brand: str | None = Field(description="None: for every brand.")
    category: Category
    tone: Tone
    title: str
    body: str


class SavedReplyIn(RequestBody):
    brand: str | None = Field(default=None, max_length=200)
    category: Category
    tone: Tone
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_TEXT)


class AlertPostOut(BaseModel):
    item_id: int = Field(description="The queue item; its page is /items/{item_id}.")
    text: str = Field(description="The post's text, cut to 280 characters.")
    author: str | None
    platform: str
    priority: int
    category: str | None
    created_at: datetime
    audience: int = Field(description="Followers plus 10 × likes, shares and replies.")


class AlertTermOut(BaseModel):
    term: str = Field(description="A matched keyword, as configured.")
    count: int = Field(description="How many of the alert's posts matched it.")


class AlertOut(BaseModel):
    id: int
    brand: str
    kind: Literal["spike", "crisis", "reach"]
    measure: Literal["mentions", "negative"] | None = Field(
        description="For a spike: what rose, all mentions or the negative posts."
    )
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = Field(description="None while the alert is open.")
    count: int = Field(
        description="Spike: posts of the measure in the last 24 hours; otherwise the posts "
        "the alert gathered."
    )
    baseline: float | None = Field(description="Spike: the 7-day daily mean it was above.")
    posts: list[AlertPostOut] = Field(description="The top posts, most urgent first.")
    terms: list[AlertTermOut]


class AlertPageOut(BaseModel):
    alerts: list[AlertOut]
    limit: int
    offset: int
