"""The fixtures themselves: a real server, idsql in every clone, clones isolated, both modes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import pq

from pyidsql import __version__
from pyidsql.testing import PgServer


def test_pg_server_describes_a_running_server(pg_server: PgServer) -> None:
    assert pg_server.kind in {"dsn", "local", "embedded"}
    assert pg_server.major >= 13
    with psycopg.connect(pg_server.conninfo(pg_server.maintenance_db)) as c:
        row = c.execute("SELECT pg_catalog.current_setting('server_version_num')::int").fetchone()
    assert row == (pg_server.version_num,)
    if pg_server.bindir is not None:
        assert (pg_server.bindir / "pg_dump").is_file()


def test_dsn_clone_has_idsql_installed(dsn: str) -> None:
    with psycopg.connect(dsn) as c:
        row = c.execute("SELECT version, channel FROM idsql.installation").fetchone()
    assert row == (__version__, "cli")


@pytest.mark.parametrize("turn", [1, 2])
def test_dsn_clones_are_isolated(turn: int, dsn: str, pg_server: PgServer, idsql_template: str) -> None:
    # Both turns create the same table: the second would fail if clones shared anything.
    with psycopg.connect(dsn, autocommit=True) as c:
        assert c.info.dbname.startswith("pyidsql_t_")
        assert c.info.dbname != idsql_template
        assert c.execute("SELECT to_regclass('public.only_here')").fetchone() == (None,)
        c.execute("CREATE TABLE public.only_here (turn int)")
        c.execute("UPDATE idsql.installation SET channel = 'psql'")
    with psycopg.connect(pg_server.conninfo(idsql_template)) as c:
        row = c.execute("SELECT to_regclass('public.only_here'), channel FROM idsql.installation").fetchone()
    assert row == (None, "cli")


def test_conn_runs_in_autocommit_or_inside_one_transaction(
    request: pytest.FixtureRequest,
    conn: psycopg.Connection[Any],
    connect: Callable[..., psycopg.Connection[Any]],
) -> None:
    mode = request.node.callspec.params["conn"]
    conn.execute("UPDATE idsql.installation SET channel = 'psql'")
    other = connect(autocommit=True)
    seen = other.execute("SELECT channel FROM idsql.installation").fetchone()
    if mode == "autocommit":
        assert conn.autocommit
        assert conn.info.transaction_status == pq.TransactionStatus.IDLE
        assert seen == ("psql",)
    else:
        assert mode == "transaction"
        assert not conn.autocommit
        assert conn.info.transaction_status == pq.TransactionStatus.INTRANS
        assert seen == ("cli",)  # not committed, so invisible to another session
        with pytest.raises(psycopg.ProgrammingError):
            conn.commit()


def test_conn_recovers_from_an_error_inside_a_savepoint(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable), conn.transaction():
        conn.execute("SELECT * FROM idsql.no_such_table")
    assert conn.execute("SELECT 1").fetchone() == (1,)


async def test_aconn_is_an_async_autocommit_connection(
    aconn: psycopg.AsyncConnection[Any],
) -> None:
    assert aconn.autocommit
    cur = await aconn.execute("SELECT version FROM idsql.installation")
    assert await cur.fetchone() == (__version__,)


def test_connect_gives_independent_sessions(
    connect: Callable[..., psycopg.Connection[Any]],
) -> None:
    first, second = connect(), connect(autocommit=True)
    assert first.info.backend_pid != second.info.backend_pid
    assert first.info.dbname == second.info.dbname
    first.execute("LOCK TABLE idsql.installation IN ACCESS EXCLUSIVE MODE")
    second.execute("SET lock_timeout = '50ms'")
    with pytest.raises(psycopg.errors.LockNotAvailable):
        second.execute("SELECT * FROM idsql.installation")
    first.rollback()
    assert second.execute("SELECT count(*) FROM idsql.installation").fetchone() == (1,)


def test_empty_dsn_has_no_idsql(empty_dsn: str) -> None:
    with psycopg.connect(empty_dsn) as c:
        row = c.execute("SELECT to_regnamespace('idsql')").fetchone()
    assert row == (None,)


def test_pg_server_started_here_runs_without_fsync(pg_server: PgServer) -> None:
    if pg_server.kind == "dsn":
        pytest.skip("an existing server keeps its own settings")
    with psycopg.connect(pg_server.conninfo(pg_server.maintenance_db)) as c:
        row = c.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')").fetchone()
    assert row == ("off", "off")
