"""Pseudonyms for people in exported data: a keyed hash (HMAC-SHA256) under a secret salt.

The same author or reviewer gets the same pseudonym in every export made with one salt, so a
data scientist can group by person; without the salt nobody can test a guessed handle against
it, which a plain hash would allow. The salt lives in the environment variable that
`[labels] salt_env` names, never in the config file or the export.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

MIN_SALT_LENGTH = 16
"""Shorter secrets can be guessed; `secrets.token_hex(32)` is a good one."""


class PseudonymError(ValueError):
    """No usable salt: the message names the variable to set."""


class Pseudonymiser:
    """Stable, unlinkable-without-the-salt ids for authors, reviewers and posts."""

    def __init__(self, salt: str) -> None:
        self._key = salt.encode("utf-8")

    @classmethod
    def from_environment(cls, variable: str, environ: Mapping[str, str]) -> Pseudonymiser:
        """The salt from `variable`; raises `PseudonymError` when it is unset or too short."""
        salt = environ.get(variable, "").strip()
        if len(salt) < MIN_SALT_LENGTH:
            raise PseudonymError(
                f"set {variable} to a secret of at least {MIN_SALT_LENGTH} characters "
                '(e.g. python -c "import secrets; print(secrets.token_hex(32))"); it salts the '
                "pseudonyms of authors and reviewers and must stay the same between exports"
            )
        return cls(salt)

    def _digest(self, kind: str, value: str) -> str:
        mac = hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256)
        return f"{kind[0]}-{mac.hexdigest()[:24]}"

    def author(self, platform: str, key: str) -> str:
        """An account, by its platform and platform key (never its handle or name)."""
        return self._digest("author", f"{platform}:{key}")

    def reviewer(self, user_id: int) -> str:
        return self._digest("reviewer", str(user_id))

    def reviewer_name(self, name: str) -> str:
        """A reviewer whose account was deleted: only the copied name is left."""
        return self._digest("reviewer", f"name:{name}")

    def post(self, platform: str, platform_id: str) -> str:
        """A post: groups the decisions on one post without its platform id (which links
        back to the author)."""
        return self._digest("post", f"{platform}:{platform_id}")
