"""pyidsql's own Alembic environment: the idsql branch with its own version table.

Applications that run these revisions from their own Alembic project never load this file; they
use their env.py and their ``alembic_version``. This environment serves
``pyidsql.alembic.upgrade()`` / ``downgrade()`` and anyone who points ``script_location`` here.

The connection comes from, in order: ``config.attributes["connection"]`` (a SQLAlchemy
``Connection`` or ``Engine``), ``-x dsn=…``, ``sqlalchemy.url``, ``$PYIDSQL_DSN``; a URL or a libpq
``key=value`` string. Offline mode (``--sql``) needs none of them.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection, Engine

from pyidsql.alembic import VERSION_TABLE, engine_for

config = context.config


def _url() -> str | None:
    return (
        context.get_x_argument(as_dictionary=True).get("dsn")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("PYIDSQL_DSN")
    )


def run_migrations_offline() -> None:
    """Write the SQL out instead of running it (``alembic upgrade --sql``); nothing connects."""
    context.configure(
        dialect_name="postgresql",
        version_table=VERSION_TABLE,
        literal_binds=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the configured connection."""
    connectable = config.attributes.get("connection")
    if connectable is None:
        url = _url()
        if not url:
            raise SystemExit(
                "pyidsql migrations: no database given: pass -x dsn=URL, set sqlalchemy.url or $PYIDSQL_DSN"
            )
        connectable = engine_for(url)
    if isinstance(connectable, Engine):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
