"""Fixtures: one PostgreSQL server per session, one idsql template, a fresh clone per test.

The server, the template and the clones come from pyidsql's own pytest plugin,
:mod:`pyidsql.testing`, the one users get with ``pytest -p pyidsql.testing``; the suite uses it
the same way and names its fixtures shorter:

- ``pg_server`` (session): the server the run uses (``idsql_server``).
- ``idsql_template`` (session): name of a template database with idsql installed.
- ``dsn``: conninfo of a fresh database cloned from the template, dropped after the test
  (``idsql_dsn``).
- ``conn``: a connection to that database, once in autocommit mode and once inside one open
  transaction that is rolled back afterwards (test ids ``[autocommit]`` / ``[transaction]``).
  A test that expects an error from the database wraps the call in ``conn.transaction()`` so it
  works in both modes.
- ``aconn``: an async autocommit connection to the same database.
- ``connect``: a factory, ``connect(**kwargs)`` → a new ``psycopg.Connection`` to the same
  database (psycopg's defaults: not autocommit); all are closed after the test.
- ``empty_dsn``: conninfo of a fresh empty database (no idsql), dropped after the test.
- ``roles``: a factory of new login roles; they and what they own are dropped after the test.

Hypothesis runs under the profile named by ``PYIDSQL_HYPOTHESIS_PROFILE``: ``test`` (the default,
for ``make test``) or ``soak`` (``make soak``: the fuzzers draw twenty times as many cases).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from psycopg import sql

# The suite imports the plugin module itself too: let pytest know before that import.
pytest.register_assert_rewrite("pyidsql.testing")
pytest_plugins = ["pyidsql.testing"]

from pyidsql import _release  # noqa: E402
from pyidsql.testing import PgServer, new_database  # noqa: E402

# Every example talks to a real server: no deadline, and fixtures shared by the examples of a test.
_FUZZ_DEFAULTS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("test", **_FUZZ_DEFAULTS)
settings.register_profile("soak", **_FUZZ_DEFAULTS)
HYPOTHESIS_PROFILE = os.environ.get("PYIDSQL_HYPOTHESIS_PROFILE", "test")
settings.load_profile(HYPOTHESIS_PROFILE)


@pytest.fixture(scope="session")
def pg_server(idsql_server: PgServer) -> PgServer:
    """Return the PostgreSQL server of this session."""
    return idsql_server


@pytest.fixture
def dsn(idsql_dsn: str) -> str:
    """Return the conninfo of a fresh database cloned from the idsql template."""
    return idsql_dsn


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
def roles(dsn: str) -> Iterator[Callable[[], str]]:
    """Return a factory of new login roles; they and what they own are dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"idsql_t_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        made.append(name)
        return name

    yield make
    with psycopg.connect(dsn, autocommit=True) as c:
        for name in made:
            c.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            c.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture
def empty_dsn(pg_server: PgServer) -> Iterator[str]:
    """Return the conninfo of a fresh empty database (no idsql)."""
    with new_database(pg_server) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def extension_dir(pg_server: PgServer) -> Path:
    """Install idsql's extension files into the server's share directory; return that directory.

    What ``make install-extension PG_CONFIG=…`` does, from nothing: the system PostgreSQL's
    ``/usr/share/postgresql/NN/extension`` (writable as root, as in CI), the embedded wheel's own
    share directory. Skipped for an existing server (``PYIDSQL_TEST_DSN``), whose files are not ours.
    """
    pg_config = pg_server.bindir / "pg_config" if pg_server.bindir is not None else None
    if pg_server.kind == "dsn" or pg_config is None or not pg_config.is_file():
        pytest.skip("CREATE EXTENSION tests need the server's own pg_config (not an existing server)")
    sharedir = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=True).stdout.strip()
    directory = Path(sharedir) / "extension"
    if not os.access(directory, os.W_OK):
        pytest.skip(f"cannot write {directory}: run as root, or make install-extension first")
    _release.write_extension(directory)
    return directory
