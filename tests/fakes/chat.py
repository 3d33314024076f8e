"""A chat server's incoming webhook (Slack/Mattermost) on 127.0.0.1 that records each message."""

from __future__ import annotations

from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

HOOK_PATH = "/hooks/geheim-3f9a7c"
"""The secret part of the webhook's address, as chat servers issue it."""


class FakeChat(FakeServer):
    @property
    def hook_url(self) -> str:
        return self.url + HOOK_PATH

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != HOOK_PATH:
            return Reply(404, "no such hook")
        return Reply(200, "ok")

    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies the hook received, in order."""
        return [request.json() for request in self.calls(HOOK_PATH)]
