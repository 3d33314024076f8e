"""Twitter/X recent search through tweepy's API v2 client."""

from __future__ import annotations

from connectors.base import SourceSettings


class TwitterSettings(SourceSettings):
    bearer_token_env: str = "TWITTER_BEARER_TOKEN"
    api_base_url: str = "https://api.twitter.com"
