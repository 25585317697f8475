"""Alembic environment: runs migrations on the connection the tracker hands over, or on a URL.

`tracker db upgrade` passes its connection in config.attributes["connection"]. Run directly,
alembic takes the URL from `-x url=...`, else TRACKER_DATABASE_URL, else the default SQLite file.
"""

from alembic import context

from tracker.db import make_engine, resolve_url
from tracker.models import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _render_item(type_, obj, autogen_context):
    """Write UTCDateTime columns as plain sa.DateTime() so migrations never import the models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
        render_item=_render_item,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    engine = make_engine(resolve_url(url))
    with engine.begin() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
