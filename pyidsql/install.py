"""Install, upgrade, inspect and remove idsql.

Every channel runs the same versioned scripts (:mod:`pyidsql._release`): the install script of
the head version for a fresh database, the chain of frozen upgrade steps for an older install.
The CLI and ``psql`` run them as they are, Alembic runs one per revision, and ``CREATE EXTENSION``
and pg_tle get them with the extension's small wrapper.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

import psycopg
from psycopg import sql

from pyidsql import __version__, _release, errors

CHANNELS = ("cli", "alembic", "psql", "extension", "pg_tle")

_LOCK = "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('idsql install'))"
_EXTENSION_VERSION = "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'idsql'"


def install_script() -> str:
    """Return the install script of this version: idempotent, no transaction control of its own."""
    return _release.install_script()


def upgrade_script(source: str) -> str:
    """Return the upgrade steps from installed version *source* to this version, one after another."""
    return "".join(_release.step_script(a, b) for a, b in _release.steps(source))


def _guard(source: str | None) -> str:
    """Return the version guard: the script refuses to run over any other version (ID901)."""
    return (
        f"SET LOCAL idsql.upgrade_from = '{source or ''}';\n"
        f"SET LOCAL idsql.target_version = '{__version__}';\n" + _release.installer_sql("require_version")
    )


def psql_script(source: str | None = None) -> str:
    """Return the script for ``psql -f``: stop on error, one transaction, a version guard.

    Without *source* it installs this version (or runs over it again); with *source* it upgrades
    an install of that version.
    """
    body = install_script() if source is None else upgrade_script(source)
    return "\\set ON_ERROR_STOP on\nBEGIN;\n" + _guard(source) + _release.pinned(body) + "COMMIT;\n"


def _installed(conn: psycopg.Connection[Any]) -> str | None:
    exists = conn.execute("SELECT pg_catalog.to_regclass('idsql.installation') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    found = conn.execute("SELECT version FROM idsql.installation").fetchone()
    return None if found is None else str(found[0])


def _extension_version(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(_EXTENSION_VERSION).fetchone()
    return None if row is None else str(row[0])


def _transaction(conn: psycopg.Connection[Any]) -> Any:
    # conn.transaction() on an idle non-autocommit connection would BEGIN and then COMMIT:
    # there the statements open the caller's transaction instead.
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    return nullcontext() if idle and not conn.autocommit else conn.transaction()


def install(conn: psycopg.Connection[Any], *, channel: str = "cli") -> str:
    """Install or upgrade idsql in the connection's database; return the installed version.

    A fresh database gets the install script; an older install gets the upgrade steps from its
    version; an install of this version gets the install script again (harmless). An install
    made by ``CREATE EXTENSION`` is upgraded with ``ALTER EXTENSION idsql UPDATE``. A newer or
    unknown version raises :class:`pyidsql.errors.VersionMismatch`.

    Runs in the caller's transaction (a savepoint if one is open) and never commits it; an
    autocommit connection gets a transaction of its own. Concurrent installs wait for each other
    (an advisory lock held until the transaction ends).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    with _transaction(conn), errors.translate_errors():
        conn.execute(_LOCK)
        if _extension_version(conn) is not None:
            conn.execute(sql.SQL("ALTER EXTENSION idsql UPDATE TO {}").format(sql.Literal(__version__)))
            return __version__
        installed = _installed(conn)
        source = installed if installed in _release.versions() and installed != __version__ else None
        conn.execute(_guard(source).encode())
        conn.execute(_release.pinned(install_script() if source is None else upgrade_script(source)).encode())
        conn.execute("UPDATE idsql.installation SET channel = %s", (channel,))
    if conn.autocommit:
        prepare_citus_workers(conn)
    return __version__


# --- Citus -------------------------------------------------------------------------------------

# Citus copies schema idsql and its functions (not its tables) to every worker, where a call would
# fail on a missing table or, worse, find a second counter. On the workers, every function that
# reads or writes idsql's tables becomes a stub raising ID903 with the coordinator's address; the
# immutable ones (formatting, parsing, validation) keep working there. DDL on a distributed
# object is refused on a worker unless propagation is off for the statement, hence SET LOCAL.
_CITUS = "SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus'"
_CITUS_COORDINATOR = "SELECT pg_catalog.citus_is_coordinator()"

_CITUS_STUBBED = """
SELECT p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.format('CREATE OR REPLACE %s idsql.%I(%s)%s LANGUAGE plpgsql'
                         ' SET search_path = pg_catalog, pg_temp AS $b$BEGIN'
                         ' PERFORM idsql._refuse_on_worker(%L); END$b$',
                         CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, p.proname,
                         pg_catalog.pg_get_function_arguments(p.oid),
                         CASE p.prokind WHEN 'p' THEN ''
                              ELSE ' RETURNS ' || pg_catalog.pg_get_function_result(p.oid) END,
                         p.proname)
FROM pg_catalog.pg_proc AS p
WHERE p.pronamespace = 'idsql'::regnamespace AND p.provolatile <> 'i' AND p.proname <> '_refuse_on_worker'
ORDER BY 1, 2
"""


def _dollar(body: str, tag: str) -> str:
    if f"${tag}$" in body:
        raise ValueError(f"dollar tag {tag} occurs in {body[:60]!r}")
    return f"${tag}${body}${tag}$"


def prepare_citus_workers(conn: psycopg.Connection[Any]) -> int:
    """On a Citus coordinator, make idsql refuse on the workers; return how many were prepared.

    Call it after the install has committed (Citus copies functions to the workers when it
    commits, which would undo the stubs) and again after ``citus_add_node``. :func:`install`
    does it itself on an autocommit connection, and ``pyidsql install`` always. Anywhere else
    than a Citus coordinator it does nothing and returns 0.
    """
    with errors.translate_errors():
        if conn.execute(_CITUS).fetchone() is None or conn.execute(_CITUS_COORDINATOR).fetchone() != (True,):
            return 0
        statements = [f"EXECUTE {_dollar(_release.installer_sql('citus_worker'), 's')};"]
        with conn.transaction():  # names qualified in full, whatever the caller's search_path
            conn.execute("SET LOCAL search_path = pg_catalog")
            stubbed = conn.execute(_CITUS_STUBBED).fetchall()
        for name, arguments, stub in stubbed:  # some take a table's row type, which workers lack
            statements.append(
                "IF EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'idsql'::regnamespace"
                f" AND proname = {sql.quote(name)}"
                f" AND pg_catalog.pg_get_function_identity_arguments(oid) = {sql.quote(arguments)})"
                f" THEN EXECUTE {_dollar(stub, 's')}; END IF;"
            )
        prelude = "BEGIN SET LOCAL citus.enable_ddl_propagation TO off; SET LOCAL search_path = pg_catalog;"
        command = _dollar("\n".join([prelude, *statements, "END"]), "d")
        results = conn.execute(
            "SELECT nodename, nodeport, success, result FROM pg_catalog.run_command_on_workers(%s)",
            (f"DO {command}",),
        ).fetchall()
    failed = [f"{host}:{port}: {result}" for host, port, ok, result in results if not ok]
    if failed:
        raise RuntimeError("idsql could not prepare the Citus workers: " + "; ".join(failed))
    return len(results)


# --- pg_tle ------------------------------------------------------------------------------------


class TleNotAvailable(RuntimeError):
    """The server has no pg_tle (no ``pgtle.install_extension``) in this database."""


# pgtle.install_extension(name, version, description, ext, requires) in pg_tle 1.0-1.3; 1.4 added
# a sixth argument, schema. Both default the arguments after ext: install_tle passes four.
_TLE_SIGNATURES = (
    "pgtle.install_extension(text,text,text,text,text[])",
    "pgtle.install_extension(text,text,text,text,text[],text)",
)


def tle_available(conn: psycopg.Connection[Any]) -> bool:
    """Return whether pg_tle's functions are there to register idsql with (pg_tle 1.0 and later)."""
    row = conn.execute(
        "SELECT bool_or(pg_catalog.to_regprocedure(s) IS NOT NULL) FROM unnest(%s::text[]) AS s",
        (list(_TLE_SIGNATURES),),
    ).fetchone()
    return bool(row and row[0])


def install_tle(conn: psycopg.Connection[Any]) -> str:
    """Register idsql's scripts with pg_tle, then create or update the extension; return the version.

    Registers the first release's install script, every upgrade step and this version's install
    script that pg_tle does not have yet (``pgtle.install_extension``, ``pgtle.install_update_path``,
    ``pgtle.install_extension_version_sql``), makes this version the
    default (``pgtle.set_default_version``), and runs ``CREATE EXTENSION idsql SCHEMA idsql`` (the
    schema created first, outside the extension, as a restore does) or ``ALTER EXTENSION idsql
    UPDATE``. Same transaction rules as :func:`install`.
    """
    with _transaction(conn), errors.translate_errors():
        if not tle_available(conn):
            raise TleNotAvailable(
                "pg_tle is not available in this database: CREATE EXTENSION pg_tle first "
                "(it must be in shared_preload_libraries), or install without --tle"
            )
        conn.execute(_LOCK)
        chain = _release.versions()
        registered = {
            str(r[0])
            for r in conn.execute(
                "SELECT version FROM pgtle.available_extension_versions() WHERE name = %s", (_release.EXTENSION,)
            )
        }
        if not registered:
            conn.execute(
                "SELECT pgtle.install_extension(%s, %s, %s, %s)",
                (
                    _release.EXTENSION,
                    chain[0],
                    _release.COMMENT,
                    _release.extension_script(_release.install_script(chain[0]), install=True),
                ),
            )
        paths = {
            (str(r[0]), str(r[1]))
            for r in conn.execute(
                "SELECT source, target FROM pgtle.extension_update_paths(%s) WHERE path = source || '--' || target",
                (_release.EXTENSION,),
            )
        }
        for source, target in pairwise(chain):
            if (source, target) not in paths:
                conn.execute(
                    "SELECT pgtle.install_update_path(%s, %s, %s, %s)",
                    (
                        _release.EXTENSION,
                        source,
                        target,
                        _release.extension_script(_release.step_script(source, target), install=False),
                    ),
                )
        # The head's own install script as well: pg_tle (1.5.3 at least) records the extension's
        # dependencies on the scripts of its default version's path, but for a path of several
        # steps looks up the later ones under the wrong names and records none for them. pg_dump
        # then writes those steps after CREATE EXTENSION, and the restore fails. With the head's
        # install script the path is that one script (set_default_version records it, also for an
        # install that was upgraded). Kept when pg_tle lacks the call (before 1.0.4).
        head_script = f'pgtle."{_release.EXTENSION}--{__version__}.sql"()'
        if len(chain) > 1 and conn.execute(
            "SELECT pg_catalog.to_regprocedure('pgtle.install_extension_version_sql(text,text,text)') IS NOT NULL"
            " AND pg_catalog.to_regprocedure(%s) IS NULL",
            (head_script,),
        ).fetchone() == (True,):
            conn.execute(
                "SELECT pgtle.install_extension_version_sql(%s, %s, %s)",
                (
                    _release.EXTENSION,
                    __version__,
                    _release.extension_script(_release.install_script(__version__), install=True),
                ),
            )
        conn.execute("SELECT pgtle.set_default_version(%s, %s)", (_release.EXTENSION, __version__))
        if _extension_version(conn) is None:
            conn.execute("CREATE SCHEMA IF NOT EXISTS idsql")
            conn.execute(sql.SQL("CREATE EXTENSION idsql SCHEMA idsql VERSION {}").format(sql.Literal(__version__)))
        else:
            conn.execute(sql.SQL("ALTER EXTENSION idsql UPDATE TO {}").format(sql.Literal(__version__)))
        conn.execute("UPDATE idsql.installation SET channel = 'pg_tle'")
    return __version__


def _tle_registered(conn: psycopg.Connection[Any]) -> bool:
    """Return whether pg_tle has idsql's scripts: its control function (as the extension epilogue asks)."""
    row = conn.execute("""SELECT pg_catalog.to_regprocedure('pgtle."idsql.control"()') IS NOT NULL""").fetchone()
    return bool(row and row[0])


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
    row = conn.execute("SELECT version, channel, installed_at, upgraded_at FROM idsql.installation").fetchone()
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
    """Drop the idsql schema; refuse while user objects depend on it unless *force*.

    An install made through pg_tle also loses its registration (``pgtle.uninstall_extension``).
    """
    found = dependents(conn)
    if found and not force:
        raise UninstallRefused(found)
    with conn.transaction():
        # An extension goes first (its objects with it), then what idsql created at run time,
        # then the scripts pg_tle keeps for an install made through it.
        through_tle = status(conn).channel == "pg_tle"
        conn.execute("DROP EXTENSION IF EXISTS idsql CASCADE")
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier("idsql")))
        if through_tle and _tle_registered(conn):
            conn.execute("SELECT pgtle.uninstall_extension(%s)", (_release.EXTENSION,))
