"""Team members: accounts, roles, brand scopes, password and API-token checks.

Passwords are hashed with argon2 (argon2-cffi's defaults, rehashed on login when those change).
API tokens are 256 random bits, so a plain SHA-256 digest is enough to store them: nobody can
guess a preimage, and a lookup by digest stays one indexed query per request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.access.roles import Role
from monitor.storage.models import ApiToken, UserRecord

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "rw_"

_hasher = PasswordHasher()
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))
"""Verified against when the name is unknown, so a login takes as long either way."""


class UserError(ValueError):
    """A user operation that cannot be done as asked; the message names the problem."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_user(
    session: Session,
    name: str,
    role: Role | str,
    password: str,
    brands: Iterable[str] | None = None,
) -> UserRecord:
    """Create an active user; the name must be new, the password long enough."""
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"Benutzername „{name}“: 2–64 Kleinbuchstaben, Ziffern, „.“, „_“ oder „-“ verwenden."
        )
    if find_user(session, name) is not None:
        raise UserError(f"Einen Benutzer „{name}“ gibt es schon.")
    _check_password(name, password)
    try:
        role = Role(role)
    except ValueError as exc:
        raise UserError(f"Unbekannte Rolle „{role}“; möglich: {', '.join(Role)}.") from exc
    user = UserRecord(
        name=name,
        role=role,
        password_hash=_hasher.hash(password),
        brands=sorted({b.strip() for b in brands if b.strip()}) if brands is not None else None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def _check_password(name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"Passwort für „{name}“: mindestens {MIN_PASSWORD_LENGTH} Zeichen.")


def set_password(user: UserRecord, password: str) -> None:
    """Give `user` a new password (long enough, or `UserError`)."""
    _check_password(user.name, password)
    user.password_hash = _hasher.hash(password)


def find_user(session: Session, name: str) -> UserRecord | None:
    return session.scalar(select(UserRecord).where(UserRecord.name == name))


def authenticate(session: Session, name: str, password: str) -> UserRecord | None:
    """The active user with this name and password, else None (same work either way)."""
    user = find_user(session, name)
    stored = user.password_hash if user is not None and user.active else _UNKNOWN_USER_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def issue_token(session: Session, user: UserRecord) -> str:
    """A new API token for `user`; only its digest is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, digest=digest(token)))
    session.flush()
    return token


def revoke_tokens(session: Session, user: UserRecord) -> int:
    """Revoke every live token of `user`; returns how many."""
    now = datetime.now(UTC)
    live = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in live:
        token.revoked_at = now
    return len(live)


def user_for_token(session: Session, token: str) -> UserRecord | None:
    """The active user a live token belongs to, else None."""
    record = session.scalar(
        select(ApiToken).where(ApiToken.digest == digest(token), ApiToken.revoked_at.is_(None))
    )
    if record is None or not record.user.active:
        return None
    record.last_used_at = datetime.now(UTC)
    return record.user


def can_see_brand(user: UserRecord, brand: str) -> bool:
    """Whether the user's brand scope includes `brand` (no scope: every brand)."""
    return user.brands is None or brand in user.brands
