"""Connectors bring posts in: one class per platform behind `connectors.base.Connector`.

`SOURCE_TYPES` is the one registration of a source type: the config reads its settings class,
`resolve_connector` builds its connector. Connector classes are named by import path, so that
reading the config imports no platform client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module

from connectors.base import Connector, SearchTerms, SourceError, SourceSettings
from connectors.settings import RedditSettings, ReplaySettings, TwitterSettings


@dataclass(frozen=True)
class SourceType:
    """A `[sources.NAME]` table's settings class and the connector that serves it."""

    settings: type[SourceSettings]
    connector_path: str
    """`module:Class`, imported when the first connector of this type is built."""

    def connector_class(self) -> type[Connector]:
        module, _, name = self.connector_path.partition(":")
        cls: type[Connector] = getattr(import_module(module), name)
        return cls


SOURCE_TYPES: dict[str, SourceType] = {
    "replay": SourceType(ReplaySettings, "connectors.replay:ReplayConnector"),
    "twitter": SourceType(TwitterSettings, "connectors.twitter:TwitterConnector"),
    "reddit": SourceType(RedditSettings, "connectors.reddit:RedditConnector"),
}


def resolve_connector(
    source: str, settings: SourceSettings, terms: SearchTerms, environ: Mapping[str, str]
) -> Connector:
    """The one place that decides which class serves a `[sources.NAME]` table."""
    try:
        source_type = SOURCE_TYPES[source]
    except KeyError:
        known = ", ".join(SOURCE_TYPES)
        raise SourceError(source, f"unknown source type (known: {known})") from None
    return source_type.connector_class().from_settings(source, settings, terms, environ)
