"""Which configured sources run, built from the settings and the credential variables."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors import resolve_connector
from connectors.base import Connector, SearchTerms, SourceError, SourceSettings
from connectors.capabilities import ChecksExisting, PostsReplies
from connectors.settings import LiveSourceSettings
from monitor.settings import Settings
from monitor.terms import parse_term

log = logging.getLogger(__name__)
REPLAY = "replay"


@dataclass
class SourcePlan:
    """The connectors to poll, and the enabled sources that cannot run (with why)."""

    connectors: list[Connector] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    schedule: dict[str, float] = field(default_factory=dict)
    """Minutes between runs per job id: `poll:SOURCE` and, where possible, `check:SOURCE`."""

    def add(self, connector: Connector, settings: SourceSettings) -> None:
        self.connectors.append(connector)
        self.schedule[f"poll:{connector.source}"] = settings.interval_minutes
        if isinstance(connector, ChecksExisting) and isinstance(settings, LiveSourceSettings):
            self.schedule[f"check:{connector.source}"] = settings.compliance_interval_minutes


def search_terms(settings: Settings) -> SearchTerms:
    """The configured terms as searches take them: without braces (searches ignore case)."""
    brands = (term for b in settings.brands for term in (b.name, *b.aliases, *b.products))
    return SearchTerms(
        brands=tuple(parse_term(term).text for term in brands),
        keywords=tuple(parse_term(term).text for term in settings.keywords.negative),
    )


def enabled_sources(settings: Settings) -> dict[str, SourceSettings]:
    return {
        name: source
        for name, source in settings.sources
        if isinstance(source, SourceSettings) and source.enabled
    }


def plan_sources(settings: Settings, environ: Mapping[str, str]) -> SourcePlan:
    """Build every enabled source; a fallback replay runs only if no live source can."""
    plan = SourcePlan()
    terms = search_terms(settings)
    sources = enabled_sources(settings)
    for name, source in sources.items():
        if name == REPLAY:
            continue
        try:
            connector = resolve_connector(name, source, terms, environ)
            plan.add(connector, source)
        except SourceError as exc:
            log.warning("%s is enabled but cannot run: %s", name, exc.problem)
            plan.unavailable[name] = exc.problem
    replay = settings.sources.replay
    if replay.enabled and not (replay.fallback and plan.connectors):
        plan.add(resolve_connector(REPLAY, replay, terms, environ), replay)
    return plan


def posts_replies(settings: Settings, source: str) -> bool:
    """Whether approved replies to `source`'s posts go out through it (`reply_enabled` and
    not `dry_run`); everywhere else sending is a dry run or done by hand."""
    config = enabled_sources(settings).get(source)
    return isinstance(config, LiveSourceSettings) and config.publishes


def reply_publisher(
    settings: Settings, source: str, environ: Mapping[str, str]
) -> PostsReplies | None:
    """The connector that posts replies for `source`, built per send so that no client is
    shared between web requests; None where posting is off. Raises `SourceError` when a
    credential is missing."""
    if not posts_replies(settings, source):
        return None
    config = enabled_sources(settings)[source]
    connector = resolve_connector(source, config, search_terms(settings), environ)
    return connector if isinstance(connector, PostsReplies) else None
