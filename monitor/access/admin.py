"""What an admin does to accounts from the web UI, each checked against the policy first."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.access import policies
from monitor.access.policies import authorize
from monitor.access.roles import Role
from monitor.access.sessions import end_all_sessions
from monitor.access.users import add_user, revoke_tokens, set_password
from monitor.storage.models import UserRecord


def all_users(session: Session) -> list[UserRecord]:
    return list(session.scalars(select(UserRecord).order_by(UserRecord.name)))


def create_member(
    session: Session,
    admin: UserRecord,
    name: str,
    role: Role | str,
    password: str,
    brands: Iterable[str] | None,
) -> UserRecord:
    authorize(policies.can_manage_users(admin))
    return add_user(session, name, role, password, brands)


def deactivate(session: Session, admin: UserRecord, user: UserRecord) -> None:
    """The account can no longer log in or use the API: its sessions and tokens end now."""
    authorize(policies.can_manage_users(admin))
    user.active = False
    user.on_shift = False
    end_all_sessions(session, user)
    revoke_tokens(session, user)


def reset_password(session: Session, admin: UserRecord, user: UserRecord, password: str) -> None:
    """A new password; the user's open sessions end, so only the new one logs in."""
    authorize(policies.can_manage_users(admin))
    set_password(user, password)
    end_all_sessions(session, user)


def revoke_api_tokens(session: Session, admin: UserRecord, user: UserRecord) -> int:
    authorize(policies.can_manage_users(admin))
    return revoke_tokens(session, user)
