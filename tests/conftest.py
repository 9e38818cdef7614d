"""Fixtures: one PostgreSQL server per session, one idsql template, a fresh clone per test.

- ``pg_server`` (session): the :class:`~pg_harness.PgServer` the run uses (see ``pg_harness``).
- ``idsql_template`` (session): name of a template database with idsql installed.
- ``dsn``: conninfo of a fresh database cloned from the template, dropped after the test.
- ``conn``: a connection to that database, once in autocommit mode and once inside one open
  transaction that is rolled back afterwards (test ids ``[autocommit]`` / ``[transaction]``).
  A test that expects an error from the database wraps the call in ``conn.transaction()`` so it
  works in both modes.
- ``aconn``: an async autocommit connection to the same database.
- ``connect``: a factory, ``connect(**kwargs)`` → a new ``psycopg.Connection`` to the same
  database (psycopg's defaults: not autocommit); all are closed after the test.
- ``empty_dsn``: conninfo of a fresh empty database (no idsql), dropped after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NoReturn

import psycopg
import pytest
from pg_harness import (
    NoServer,
    PgServer,
    db_required,
    no_server_message,
    plan_server,
    resolve_server,
)
from psycopg import sql
from pytest_postgresql.janitor import DatabaseJanitor

import pyidsql.install

# Every database the suite creates starts with this, so a shared server can be cleaned by name.
DB_PREFIX = "pyidsql_t_"

_SERVER_KEY = pytest.StashKey[PgServer]()


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


def _new_dbname() -> str:
    return f"{DB_PREFIX}{uuid.uuid4().hex[:16]}"


def _install_idsql(*, host: str, port: int, user: str, dbname: str, password: str | None, **_: Any) -> None:
    """Install idsql the way ``pyidsql install`` does (DatabaseJanitor.load callable)."""
    with psycopg.connect(host=host, port=port, user=user, dbname=dbname, password=password) as c:
        pyidsql.install.install(c, channel="cli")
        c.commit()


@pytest.fixture(scope="session")
def pg_server(request: pytest.FixtureRequest) -> Iterator[PgServer]:
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
def idsql_template(pg_server: PgServer) -> Iterator[str]:
    """Return the name of a template database with idsql installed."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{DB_PREFIX}tmpl_{worker}_{os.getpid()}"
    janitor = _janitor(pg_server, name, as_template=True)
    janitor.drop()  # a leftover from a killed run with the same pid
    janitor.init()
    try:
        janitor.load(_install_idsql)
        yield name
    finally:
        janitor.drop()


@pytest.fixture
def dsn(pg_server: PgServer, idsql_template: str) -> Iterator[str]:
    """Return the conninfo of a fresh database cloned from the idsql template."""
    name = _new_dbname()
    with _janitor(pg_server, name, template_dbname=idsql_template):
        yield pg_server.conninfo(name)


@pytest.fixture(params=["autocommit", "transaction"])
def conn(request: pytest.FixtureRequest, dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """Return a connection to the test database, in autocommit mode or inside a transaction."""
    mode = request.param
    connection = psycopg.connect(dsn, autocommit=mode == "autocommit")
    try:
        if mode == "transaction":
            # Everything the test does runs in this one transaction; commit() is refused.
            with connection.transaction(force_rollback=True):
                yield connection
        else:
            yield connection
    finally:
        connection.close()


@pytest.fixture
async def aconn(dsn: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """Return an async autocommit connection to the test database."""
    connection = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def connect(dsn: str) -> Iterator[Callable[..., psycopg.Connection[Any]]]:
    """Return a factory of new connections to the test database, closed after the test."""
    opened: list[psycopg.Connection[Any]] = []

    def _connect(**kwargs: Any) -> psycopg.Connection[Any]:
        connection = psycopg.connect(dsn, **kwargs)
        opened.append(connection)
        return connection

    yield _connect
    for connection in opened:
        connection.close()


@pytest.fixture
def empty_dsn(pg_server: PgServer) -> Iterator[str]:
    """Return the conninfo of a fresh empty database (no idsql)."""
    name = _new_dbname()
    with _janitor(pg_server, name):
        yield pg_server.conninfo(name)
