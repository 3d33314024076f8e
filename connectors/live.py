"""What the network sources (X, Reddit) share at run time: credentials from the environment and
the HTTP adapter (their settings are in `connectors.settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

from connectors.base import SourceError


def credential(environ: Mapping[str, str], source: str, variable: str, what: str) -> str:
    """The secret in `$variable`; missing or blank is a `SourceError` naming the variable."""
    value = environ.get(variable, "").strip()
    if not value:
        raise SourceError(source, f"{what} missing: set the environment variable {variable}")
    return value


class HttpAdapter(HTTPAdapter):
    """Enforces the configured timeout and optionally sends one host's requests elsewhere.

    Neither tweepy nor prawcore lets a caller choose the timeout, and tweepy hard-codes its
    host; a requests adapter on the client's own session is the one place to change both.
    """

    def __init__(self, timeout: float, rebase: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.timeout = timeout
        self.rebase = rebase

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.rebase and (request.url or "").startswith(self.rebase[0]):
            old, new = self.rebase
            request.url = new + (request.url or "")[len(old) :]
            # requests chose the environment's proxies for the old host; choose for the new.
            kwargs["proxies"] = get_environ_proxies(request.url)
        kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)
