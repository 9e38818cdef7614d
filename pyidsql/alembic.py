"""Install idsql through Alembic: pyidsql's migration branch and its own environment.

pyidsql ships an Alembic branch labelled ``idsql`` (revisions ``idsql_0001``, …) in
``pyidsql:migrations/versions``. It runs two ways:

* inside an application's Alembic project: add the folder to ``version_locations`` and run
  ``alembic upgrade heads``; the revisions are recorded in the application's version table;
* on its own: :func:`upgrade` / :func:`downgrade` run pyidsql's environment
  (``migrations/env.py``), which records them in a separate version table,
  :data:`VERSION_TABLE`, so it never touches an application's ``alembic_version``.

The revisions call :func:`execute_script`, :func:`run_release`, :func:`drop_schema` and, to
downgrade, :func:`drop_routines_not_rewritten` below.

Importing this module also registers the migration operations ``op.enable_state_version`` and
``op.disable_state_version`` (state versions, :mod:`pyidsql.alembic_ops`) and
``op.set_id_strategy`` (ID negotiation, :class:`SetIdStrategyOp`), each with a reverse for
downgrades.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic import op as _op
from alembic.config import Config
from alembic.operations import MigrateOperation, Operations
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from pyidsql import _release, _resources, install
from pyidsql import alembic_ops as alembic_ops  # registers op.enable_state_version / op.disable_state_version

BRANCH = "idsql"
"""The branch label of pyidsql's revisions: ``alembic upgrade idsql@head``."""

VERSION_TABLE = "idsql_alembic_version"
"""The version table of pyidsql's own environment (an application's stays ``alembic_version``)."""

ConnOrUrl = str | Connection | Engine


def migrations_dir() -> Path:
    """Return the folder of pyidsql's Alembic environment (``env.py``, ``versions/``)."""
    return _resources.MIGRATIONS_DIR


def version_locations() -> str:
    """Return the path to add to an application's ``version_locations``.

    The same folder as the package resource ``pyidsql:migrations/versions``.
    """
    return str(migrations_dir() / "versions")


def make_config(conn_or_url: ConnOrUrl | None = None) -> Config:
    """Return an Alembic config for pyidsql's own environment, bound to *conn_or_url*.

    *conn_or_url* is a libpq connection string or URL (``postgresql://…``, or a SQLAlchemy URL
    naming its driver such as ``postgresql+psycopg://…``), a SQLAlchemy ``Engine``, or a
    SQLAlchemy ``Connection``.
    """
    cfg = Config()
    # Config values are %-interpolated: escape the path.
    cfg.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    if conn_or_url is not None:
        cfg.attributes["connection"] = engine_for(conn_or_url) if isinstance(conn_or_url, str) else conn_or_url
    return cfg


def engine_for(url: str) -> Engine:
    """Return an engine for a libpq connection string or URL, using psycopg 3 by default."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if "+" in scheme:  # a SQLAlchemy URL that names its driver
        return sa.create_engine(url, poolclass=NullPool)
    # psycopg reads both "postgresql://…" URLs and "host=… dbname=…" strings.
    return sa.create_engine("postgresql+psycopg://", poolclass=NullPool, creator=lambda: psycopg.connect(url))


def upgrade(conn_or_url: ConnOrUrl | None, revision: str = "heads", *, sql: bool = False) -> None:
    """Upgrade idsql to *revision* through pyidsql's own environment and version table.

    With a URL or an ``Engine`` the upgrade commits. With a ``Connection`` it commits unless the
    connection is already in a transaction, which is then left to the caller (Alembic's rule).
    ``sql=True`` prints the SQL instead (Alembic's offline mode) and connects to nothing.
    """
    _run(command.upgrade, conn_or_url, revision, sql)


def downgrade(conn_or_url: ConnOrUrl | None, revision: str = "base", *, sql: bool = False) -> None:
    """Downgrade idsql to *revision* through pyidsql's own environment; ``base`` drops the schema.

    Raises :class:`DowngradeRefused` while objects outside idsql depend on it. Offline
    (``sql=True``) *revision* must be a range such as ``idsql_0002:base``.
    """
    _run(command.downgrade, conn_or_url, revision, sql)


def _run(func: Any, conn_or_url: ConnOrUrl | None, revision: str, sql: bool) -> None:
    if sql:
        func(make_config(), revision, sql=True)
        return
    if conn_or_url is None:
        raise TypeError("a connection or URL is required unless sql=True")
    cfg = make_config(conn_or_url)
    try:
        func(cfg, revision)
    finally:
        if isinstance(conn_or_url, str):
            cfg.attributes["connection"].dispose()


# --- helpers the revision files call ---------------------------------------------------------


class DowngradeRefused(install.UninstallRefused):
    """Objects outside idsql still use it, so the Alembic downgrade would drop them."""

    def __init__(self, dependents: list[str]) -> None:
        # Same data as UninstallRefused, with advice that fits a migration instead of --force.
        self.dependents = dependents
        listing = "\n  ".join(dependents)
        RuntimeError.__init__(
            self,
            f"idsql is still in use by {len(dependents)} object(s):\n  {listing}\n"
            "Drop or change them first, in a migration that depends on idsql "
            "(Alembic downgrades it before idsql).",
        )


def execute_script(script: str) -> None:
    """Run a multi-statement SQL script in the current migration.

    Online it goes to the driver unparsed (no bind parameters, so ``:`` and ``%`` in the SQL are
    left alone); offline (``--sql``) it is written out verbatim.
    """
    ctx = _op.get_context()
    if ctx.as_sql:
        ctx.impl.static_output(script)
        return
    _op.get_bind().exec_driver_sql(script, execution_options={"no_parameters": True})


def run_release(script: str, version: str) -> None:
    """Run a release script (install or upgrade step) that brings idsql to *version*.

    Online, an install already at *version* or newer is left alone (a second Alembic history
    that tracks idsql too replays the older revisions); offline the script is written out.
    """
    ctx = _op.get_context()
    if not ctx.as_sql:
        bind = _op.get_bind()
        options: dict[str, Any] = {"no_parameters": True}
        installed = None
        if bind.exec_driver_sql(
            "SELECT pg_catalog.to_regclass('idsql.installation') IS NOT NULL", execution_options=options
        ).scalar():
            query = "SELECT version FROM idsql.installation"
            installed = bind.exec_driver_sql(query, execution_options=options).scalar()
        if installed is not None and _release.version_key(str(installed)) >= _release.version_key(version):
            return
    execute_script(_release.pinned(script))


def release_routines(version: str) -> list[str]:
    """Return the names of the routines the install script of *version* creates, sorted."""
    pattern = r"^CREATE OR REPLACE (?:FUNCTION|PROCEDURE) idsql\.(\w+)\("
    return sorted(set(re.findall(pattern, _release.install_script(version), re.M)))


def sql_names(names: Iterable[str]) -> str:
    """Return *names* as an SQL ``name[]`` literal (they are identifiers matched by ``\\w+``)."""
    return "'{" + ",".join(sorted(names)) + "}'::pg_catalog.name[]"


def drop_routines_not_rewritten(marker: str, version: str) -> str:
    """Return the SQL that drops what a downgrade from *version* leaves of it.

    A downgrade runs the install script of the release it goes back to after creating the
    temporary table *marker*. ``CREATE OR REPLACE`` rewrites a routine's catalog row, so the
    routines that script has have this transaction as their ``xmin`` and a later command than the
    marker's as their ``cmin`` (the downgrade of a later release, run before in the same
    transaction, rewrote some too, but before the marker). The SQL drops the others among those
    the install script of *version* names: only those, so that objects of the user's in the idsql
    schema stay.
    """
    return f"""
DO $downgrade$
DECLARE
    v_this_transaction xid := (SELECT c.xmin FROM pg_catalog.pg_class AS c
                                WHERE c.oid = 'pg_temp.{marker}'::pg_catalog.regclass);
    v_since bigint := (SELECT c.cmin::text::bigint FROM pg_catalog.pg_class AS c
                        WHERE c.oid = 'pg_temp.{marker}'::pg_catalog.regclass);
    v_routine text;
BEGIN
    FOR v_routine IN
        SELECT pg_catalog.format('%s %s', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                                 p.oid::pg_catalog.regprocedure)
          FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace = 'idsql'::pg_catalog.regnamespace
           AND p.proname = ANY ({sql_names(release_routines(version))})
           AND NOT (p.xmin = v_this_transaction AND p.cmin::text::bigint > v_since)
    LOOP
        EXECUTE 'DROP ' || v_routine;
    END LOOP;
END
$downgrade$;
"""


def drop_schema() -> None:
    """Drop the idsql schema in the current migration; refuse while user objects depend on it."""
    ctx = _op.get_context()
    if ctx.as_sql:
        # No database to look at: the script checks for itself when it runs.
        ctx.impl.static_output(_GUARDED_DROP)
        return
    driver = _op.get_bind().connection.driver_connection
    if isinstance(driver, psycopg.Connection):
        found = install.dependents(driver)
    else:
        found = _dependents_any_driver(_op.get_bind())
    if found:
        raise DowngradeRefused(found)
    _op.execute("DROP SCHEMA IF EXISTS idsql CASCADE")


def _dependents_any_driver(bind: Connection) -> list[str]:
    exists = bind.exec_driver_sql(
        "SELECT pg_catalog.to_regnamespace('idsql') IS NOT NULL",
        execution_options={"no_parameters": True},
    ).scalar()
    if not exists:
        return []
    rows = bind.exec_driver_sql(install._DEPENDENTS, execution_options={"no_parameters": True})
    return [r[0] for r in rows]


_GUARDED_DROP = f"""DO $idsql$
DECLARE
    found text;
BEGIN
    SELECT pg_catalog.string_agg(d, ', ') INTO found
      FROM ({install._DEPENDENTS.strip()}) AS dependents(d);
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'idsql is still in use'
            USING ERRCODE = 'dependent_objects_still_exist',
                  DETAIL = 'Used by: ' || found || '.',
                  HINT = 'Drop or change those objects first.';
    END IF;
END
$idsql$;

DROP SCHEMA IF EXISTS idsql CASCADE;
"""


# --- the migration operation op.set_id_strategy ----------------------------------------------


@Operations.register_operation("set_id_strategy")
class SetIdStrategyOp(MigrateOperation):
    """``op.set_id_strategy(table, strategy, generator=None, *, schema=None)`` in a migration.

    Calls ``idsql.set_id_strategy``; *table* and *schema* are identifiers (quoted as such,
    never parsed as SQL). The reverse operation restores *previous_strategy* and
    *previous_generator* (default: ``client``, the strategy of every table that never had one),
    so a downgrade can call ``op.invoke(op_obj.reverse())`` or simply ``op.set_id_strategy(table,
    "client")``.
    """

    def __init__(
        self,
        table: str,
        strategy: str,
        generator: str | None = None,
        *,
        schema: str | None = None,
        previous_strategy: str = "client",
        previous_generator: str | None = None,
    ) -> None:
        self.table = table
        self.strategy = strategy
        self.generator = generator
        self.schema = schema
        self.previous_strategy = previous_strategy
        self.previous_generator = previous_generator

    @classmethod
    def set_id_strategy(
        cls,
        operations: Operations,
        table: str,
        strategy: str,
        generator: str | None = None,
        *,
        schema: str | None = None,
        previous_strategy: str = "client",
        previous_generator: str | None = None,
    ) -> None:
        """Choose client or server IDs for a table (``idsql.set_id_strategy``)."""
        operations.invoke(
            cls(
                table,
                strategy,
                generator,
                schema=schema,
                previous_strategy=previous_strategy,
                previous_generator=previous_generator,
            )
        )

    def reverse(self) -> SetIdStrategyOp:
        """Return the operation that restores the previous strategy."""
        return SetIdStrategyOp(
            self.table,
            self.previous_strategy,
            self.previous_generator,
            schema=self.schema,
            previous_strategy=self.strategy,
            previous_generator=self.generator,
        )


_SET_ID_STRATEGY = sa.text(
    "SELECT idsql.set_id_strategy("
    "CAST(concat_ws('.', quote_ident(CAST(:schema AS text)), quote_ident(:table)) AS regclass),"
    " :strategy, CAST(:generator AS text))"
)


@Operations.implementation_for(SetIdStrategyOp)
def _set_id_strategy(operations: Operations, operation: SetIdStrategyOp) -> None:
    statement = _SET_ID_STRATEGY.bindparams(
        schema=operation.schema,
        table=operation.table,
        strategy=operation.strategy,
        generator=operation.generator,
    )
    ctx = operations.get_context()
    if ctx.as_sql:
        # Offline (--sql) there is no driver to bind values: render them as quoted literals.
        operations.execute(str(statement.compile(dialect=ctx.dialect, compile_kwargs={"literal_binds": True})))
        return
    operations.execute(statement)
