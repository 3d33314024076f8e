"""Reddit search and streams through praw."""

from __future__ import annotations

from pydantic import Field

from connectors.base import SourceSettings


class RedditSettings(SourceSettings):
    client_id_env: str = "REDDIT_CLIENT_ID"
    client_secret_env: str = "REDDIT_CLIENT_SECRET"
    user_agent: str = "rufwacht/0.1"
    subreddits: list[str] = Field(default_factory=lambda: ["de"])
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
