"""Alembic environment: runs against the connection `monitor.storage.database` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from monitor.storage.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # Command-line use (`alembic -x url=... upgrade head`), e.g. when writing a migration.
        url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///rufwacht.db")
        with create_engine(url).begin() as own_connection:
            _migrate(own_connection)
    else:
        _migrate(connection)


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write the plain column type into migrations so they never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
