"""Connectors bring posts in: one class per platform behind `connectors.base.Connector`."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.base import Connector, SearchTerms, SourceError, SourceSettings
from connectors.reddit import RedditConnector
from connectors.replay import ReplayConnector
from connectors.twitter import TwitterConnector

CONNECTOR_CLASSES: dict[str, type[Connector]] = {
    "replay": ReplayConnector,
    "twitter": TwitterConnector,
    "reddit": RedditConnector,
}


def resolve_connector(
    source: str, settings: SourceSettings, terms: SearchTerms, environ: Mapping[str, str]
) -> Connector:
    """The one place that decides which class serves a `[sources.NAME]` table."""
    try:
        cls = CONNECTOR_CLASSES[source]
    except KeyError:
        known = ", ".join(CONNECTOR_CLASSES)
        raise SourceError(source, f"unknown source type (known: {known})") from None
    return cls.from_settings(source, settings, terms, environ)
