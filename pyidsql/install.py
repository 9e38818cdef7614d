"""Install, inspect and remove the ``idsql`` schema.

Every channel (CLI, Alembic, the psql script) runs the same script, built here by
concatenating ``sql/`` in the order of ``sql/manifest.txt``.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from pyidsql import __version__, _resources

CHANNELS = ("cli", "alembic", "psql", "extension", "pg_tle")


def install_script() -> str:
    """Return the full install script: idempotent, no transaction control of its own."""
    parts = [
        f"-- pyidsql {__version__}: install script for the idsql schema.\n"
        "-- Generated from sql/ in the order of sql/manifest.txt; safe to run again.\n"
    ]
    for path in _resources.sql_files():
        rel = path.relative_to(_resources.SQL_DIR)
        parts.append(f"\n-- {rel}\n{path.read_text().strip()}\n")
    parts.append(
        "\n-- record what is installed\n"
        "INSERT INTO idsql.installation AS i (singleton, version, channel)\n"
        f"VALUES (true, '{__version__}', 'psql')\n"
        "ON CONFLICT (singleton) DO UPDATE\n"
        "    SET version = excluded.version, upgraded_at = now();\n"
    )
    return "".join(parts)


def psql_script() -> str:
    """Return the install script wrapped for ``psql -f``: stop on error, one transaction."""
    return (
        "\\set ON_ERROR_STOP on\n"
        "BEGIN;\n" + install_script() + "COMMIT;\n"
    )


def install(conn: psycopg.Connection[Any], *, channel: str = "cli") -> str:
    """Install or upgrade idsql in the connection's database; return the installed version.

    Runs in the caller's transaction (a savepoint if one is open) and never commits it; an
    autocommit connection gets a transaction of its own. Concurrent installs wait for each other
    (an advisory lock held until the transaction ends).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    # conn.transaction() on an idle non-autocommit connection would BEGIN and then COMMIT:
    # there the statements open the caller's transaction instead.
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with nullcontext() if idle and not conn.autocommit else conn.transaction():
        conn.execute(install_script().encode())
        conn.execute("UPDATE idsql.installation SET channel = %s", (channel,))
    return __version__


@dataclass(frozen=True)
class Status:
    """What ``pyidsql status`` reports."""

    version: str | None
    channel: str | None
    installed_at: datetime | None
    upgraded_at: datetime | None
    functions: int
    tables: int
    user_triggers: int

    @property
    def installed(self) -> bool:
        return self.version is not None


_STATUS_OBJECTS = """
SELECT (SELECT count(*) FROM pg_catalog.pg_proc
         WHERE pronamespace = 'idsql'::regnamespace),
       (SELECT count(*) FROM pg_catalog.pg_class
         WHERE relnamespace = 'idsql'::regnamespace AND relkind IN ('r', 'p')),
       (SELECT count(*) FROM pg_catalog.pg_trigger t
          JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         WHERE t.tgname LIKE 'idsql\\_%' AND c.relnamespace <> 'idsql'::regnamespace)
"""

_DEPENDENTS = """
WITH ours(classid, objid) AS (
    SELECT 'pg_catalog.pg_proc'::regclass, oid FROM pg_catalog.pg_proc
     WHERE pronamespace = 'idsql'::regnamespace
    UNION ALL
    SELECT 'pg_catalog.pg_class'::regclass, oid FROM pg_catalog.pg_class
     WHERE relnamespace = 'idsql'::regnamespace
    UNION ALL
    SELECT 'pg_catalog.pg_type'::regclass, oid FROM pg_catalog.pg_type
     WHERE typnamespace = 'idsql'::regnamespace
)
SELECT DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
  FROM pg_catalog.pg_depend d
  JOIN ours o ON (d.refclassid, d.refobjid) = (o.classid, o.objid)
 WHERE d.deptype IN ('n', 'a')
   AND coalesce(
           CASE d.classid
               WHEN 'pg_catalog.pg_attrdef'::regclass THEN
                   (SELECT c.relnamespace FROM pg_catalog.pg_attrdef a
                      JOIN pg_catalog.pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid)
               WHEN 'pg_catalog.pg_trigger'::regclass THEN
                   (SELECT c.relnamespace FROM pg_catalog.pg_trigger t
                      JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid WHERE t.oid = d.objid)
               WHEN 'pg_catalog.pg_rewrite'::regclass THEN
                   (SELECT c.relnamespace FROM pg_catalog.pg_rewrite r
                      JOIN pg_catalog.pg_class c ON c.oid = r.ev_class WHERE r.oid = d.objid)
               WHEN 'pg_catalog.pg_constraint'::regclass THEN
                   (SELECT connamespace FROM pg_catalog.pg_constraint WHERE oid = d.objid)
           END,
           (SELECT n.oid FROM pg_catalog.pg_namespace n
             WHERE n.nspname = (pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid)).schema)
       ) IS DISTINCT FROM 'idsql'::regnamespace
 ORDER BY 1
"""


def status(conn: psycopg.Connection[Any]) -> Status:
    """Return the installed version, its channel and object counts."""
    exists = conn.execute("SELECT to_regclass('idsql.installation') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return Status(None, None, None, None, 0, 0, 0)
    row = conn.execute(
        "SELECT version, channel, installed_at, upgraded_at FROM idsql.installation"
    ).fetchone()
    counts = conn.execute(_STATUS_OBJECTS).fetchone()
    assert counts is not None
    version, channel, installed_at, upgraded_at = row or (None, None, None, None)
    return Status(version, channel, installed_at, upgraded_at, *counts)


class UninstallRefused(RuntimeError):
    """Objects outside idsql still use it; ``force=True`` drops them too."""

    def __init__(self, dependents: list[str]) -> None:
        self.dependents = dependents
        listing = "\n  ".join(dependents)
        super().__init__(
            f"idsql is still in use by {len(dependents)} object(s):\n  {listing}\n"
            "Remove them first, or pass --force to drop them with the schema."
        )


def dependents(conn: psycopg.Connection[Any]) -> list[str]:
    """Return the objects outside idsql that would be dropped with it (triggers, defaults, …)."""
    if not status(conn).installed:
        return []
    return [r[0] for r in conn.execute(_DEPENDENTS).fetchall()]


def uninstall(conn: psycopg.Connection[Any], *, force: bool = False) -> None:
    """Drop the idsql schema; refuse while user objects depend on it unless *force*."""
    found = dependents(conn)
    if found and not force:
        raise UninstallRefused(found)
    with conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier("idsql")))
