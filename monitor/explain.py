"""Why a stored post is (not) in the queue, answered from its stored verdict, in German."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from classifiers.triage import ACTION_NAMES, CATEGORY_NAMES, TEAM_NAMES
from monitor.guidance.playbooks import playbook_for
from monitor.queue.states import QueueStatus
from monitor.storage.models import PostRecord, VerdictRecord


def parse_ref(ref: str) -> tuple[str, str]:
    """`PLATFORM:ID` split in two; ValueError naming the expected form otherwise."""
    platform, _, platform_id = ref.partition(":")
    if not platform or not platform_id:
        raise ValueError(f"expected PLATFORM:ID (e.g. twitter:1234567890), got {ref!r}")
    return platform, platform_id


def find_post(session: Session, ref: str) -> PostRecord:
    """The stored post `PLATFORM:ID` with its verdict and queue item; ValueError if unknown."""
    platform, platform_id = parse_ref(ref)
    post = session.scalar(
        select(PostRecord)
        .options(selectinload(PostRecord.verdict), selectinload(PostRecord.queue_item))
        .where(PostRecord.platform == platform, PostRecord.platform_id == platform_id)
    )
    if post is None:
        raise ValueError(f"no stored post {ref!r}")
    return post


def explanation_data(post: PostRecord) -> dict[str, Any]:
    """The post, its queue item and its stored verdict as JSON-ready data."""
    item = post.queue_item
    return {
        "post": {
            "platform": post.platform,
            "platform_id": post.platform_id,
            "url": post.url,
            "text": post.text,
            "created_at": post.created_at.isoformat(),
            "deleted_at": post.deleted_at.isoformat() if post.deleted_at else None,
        },
        "queue_item": None
        if item is None
        else {
            "id": item.id,
            "status": item.status,
            "priority": item.priority,
            "due_at": item.due_at.isoformat(),
        },
        "verdict": None if post.verdict is None else _verdict_data(post.verdict),
    }


def _verdict_data(verdict: VerdictRecord) -> dict[str, Any]:
    return {
        "flagged": verdict.flagged,
        "priority": verdict.priority,
        "brand": verdict.brand,
        "reasons": verdict.reasons,
        "matches": verdict.matches,
        "thresholds": verdict.thresholds,
        "scores": verdict.scores,
        "spam": verdict.spam,
        "models": verdict.models,
        "category": verdict.category,
        "action": verdict.action,
        "guideline": verdict.guideline,
        "judged_at": verdict.judged_at.isoformat(),
    }


NO_VERDICT = (
    "Für diesen Beitrag ist kein Urteil gespeichert "
    "(bewertet, bevor Rufwacht Urteile aufzeichnete)."
)


def explain(post: PostRecord) -> list[str]:
    """German sentences for the social media team: queue state, then why, then versions."""
    lines = [_queue_state(post)]
    if post.verdict is None:
        return [*lines, NO_VERDICT]
    verdict = post.verdict
    return [*lines, *_why(verdict, post.text), *_triage(verdict), _versions(verdict)]


def _queue_state(post: PostRecord) -> str:
    item = post.queue_item
    deleted = f" am {_when(post.deleted_at)}" if post.deleted_at else ""
    if item is None:
        gone = f" Der Beitrag wurde beim Anbieter gelöscht{deleted}." if post.deleted_at else ""
        return "Nicht in der Queue." + gone
    if item.status == QueueStatus.DELETED:
        return (
            f"Aus der Queue genommen (Eintrag {item.id}): der Beitrag wurde beim Anbieter "
            f"gelöscht{deleted}."
        )
    return (
        f"In der Queue: Eintrag {item.id}, Status „{item.status}“, Priorität "
        f"{item.priority}, fällig {_when(item.due_at)}."
    )


def _why(verdict: VerdictRecord, text: str | None) -> list[str]:
    matches, scores, limits = verdict.matches, verdict.scores, verdict.thresholds
    if not matches.get("brands"):
        return ["Keine Marke erkannt: Beiträge ohne Markenbezug werden nicht eingereiht."]
    spans = matches.get("spans", [])
    brand_spans = [span for span in spans if span["kind"] != "keyword"]
    keyword_spans = [span for span in spans if span["kind"] == "keyword"]
    lines = [f"Erkannte Marke: {_terms(matches['brands'], brand_spans, text)}."]
    if matches.get("keywords"):
        lines.append(f"Schlagworte: {_terms(matches['keywords'], keyword_spans, text)}.")
    lines.append(_against("Negativ", scores["negative"], limits["negative"]))
    lines.append(_against("Troll-Score", scores["troll"], limits["troll"]))
    if scores.get("troll_reasons"):
        lines.append("Troll-Hinweise: " + "; ".join(scores["troll_reasons"]) + ".")
    if scores.get("threat"):
        lines.append("Drohung oder Erpressung erkannt: wird immer eingereiht.")
    if verdict.spam.get("is_spam"):
        lines.append(
            f"Werbung oder Phishing (Regel {verdict.spam['rule_version']}): "
            + "; ".join(verdict.spam["reasons"])
            + ". Solche Beiträge werden nur bei einer Drohung eingereiht."
        )
    lines.append(_outcome(verdict))
    return lines


def _terms(names: list[str], spans: list[dict[str, Any]], text: str | None) -> str:
    """Each matched brand or keyword with the words that matched it: "Deutsche Bahn („DB“)"."""
    found: dict[str, dict[str, None]] = {name: {} for name in names}
    for span in spans:
        owner = span.get("brand") or span["term"]  # a keyword span has no brand
        written = span.get("text") or (text or "")[span["start"] : span["end"]]
        if owner in found and written:
            found[owner][written] = None
    return ", ".join(
        name + (f" ({', '.join(f'„{w}“' for w in words)})" if words else "")
        for name, words in found.items()
    )


def _against(name: str, value: float, threshold: float) -> str:
    reached = "erreicht" if value >= threshold else "nicht erreicht"
    return f"{name} {value:.0%} bei Schwelle {threshold:.0%}: {reached}."


def _outcome(verdict: VerdictRecord) -> str:
    if verdict.flagged:
        reasons = "; ".join(verdict.reasons)
        return f"Ergebnis: eingereiht mit Priorität {verdict.priority} ({reasons})."
    category = (verdict.category or {}).get("label")
    if verdict.spam.get("is_spam") or category == "spam":
        return "Ergebnis: nicht eingereiht, weil der Beitrag als Werbung oder Phishing gilt."
    why = "weder negativ genug noch Troll-verdächtig ist noch droht"
    if category:
        why += f" und die Triage ihn als {CATEGORY_NAMES[category]} einordnet"
    return f"Ergebnis: nicht eingereiht, weil er {why}."


def _triage(verdict: VerdictRecord) -> list[str]:
    """The stored category, action and playbook; one line saying so for older verdicts."""
    category, action = verdict.category, verdict.action
    if category is None or action is None:
        return ["Keine Kategorie gespeichert (bewertet, bevor Rufwacht Beiträge einordnete)."]
    lines = [
        f"Kategorie: {CATEGORY_NAMES[category['label']]} ({category['confidence']:.0%} sicher)"
        + _because(category["reasons"]),
        f"Aktion: {ACTION_NAMES[action['label']]}"
        + (f" an {TEAM_NAMES[action['escalate_to']]}" if action.get("escalate_to") else "")
        + _because(action["reasons"]),
    ]
    if verdict.guideline:
        lines.append(f"Leitfaden: {playbook_for(verdict.guideline).title} ({verdict.guideline}).")
    return lines


def _because(reasons: list[str]) -> str:
    return (": " + "; ".join(reasons) + ".") if reasons else "."


def _versions(verdict: VerdictRecord) -> str:
    models = ", ".join(f"{task} {version}" for task, version in verdict.models.items())
    return (
        f"Bewertet {_when(verdict.judged_at)} mit {models}; "
        f"Spam-Regel {verdict.spam.get('rule_version')}."
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%d.%m.%Y %H:%M UTC")
