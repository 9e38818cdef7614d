"""ID negotiation under concurrency: real connections, exact interleavings, asserted outcomes."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors
from test_prefixed_ids_concurrency import wait_until_blocked

import pyidsql

Conn = psycopg.Connection[Any]
Connect = Callable[..., Conn]

SCHEMA = """
CREATE TABLE project (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE task (id text PRIMARY KEY, project_id text NOT NULL REFERENCES project, name text NOT NULL);
CREATE INDEX ON task (project_id);
SELECT idsql.set_id_strategy('project', 'server', 'prefix:PRJ');
INSERT INTO project VALUES ('tmp_p1', 'offline');
INSERT INTO task VALUES ('tmp_t1', 'tmp_p1', 'first');
"""


@pytest.fixture
def sessions(connect: Connect) -> tuple[Conn, Conn, Conn]:
    """Two transactional sessions A and B, and an autocommit monitor, on a database with SCHEMA."""
    monitor = connect(autocommit=True)
    monitor.execute(SCHEMA)
    return connect(), connect(), monitor


def test_replace_id_everywhere_two_sessions_same_temp_id_one_result(sessions: tuple[Conn, Conn, Conn]) -> None:
    a, b, monitor = sessions
    first = pyidsql.replace_id_everywhere(a, "project", "tmp_p1", "PRJ-1")
    with ThreadPoolExecutor(1) as pool:
        second: Future[dict[str, Any]] = pool.submit(pyidsql.replace_id_everywhere, b, "project", "tmp_p1", "PRJ-1")
        wait_until_blocked(monitor, b, a.info.backend_pid)
        a.commit()
        assert second.result(timeout=30) == first
    b.commit()
    assert monitor.execute("SELECT count(*) FROM idsql.id_change_log").fetchone() == (1,)
    assert monitor.execute("SELECT id, project_id FROM task").fetchall() == [("tmp_t1", "PRJ-1")]


def test_assign_server_id_two_sessions_same_temp_id_one_result_no_deadlock(
    sessions: tuple[Conn, Conn, Conn],
) -> None:
    a, b, monitor = sessions
    permanent = pyidsql.assign_server_id(a, "project", "tmp_p1")
    with ThreadPoolExecutor(1) as pool:
        second: Future[str] = pool.submit(pyidsql.assign_server_id, b, "project", "tmp_p1")
        wait_until_blocked(monitor, b, a.info.backend_pid)
        a.commit()
        assert second.result(timeout=30) == permanent
    b.commit()
    assert monitor.execute("SELECT id FROM project").fetchall() == [(permanent,)]
    assert monitor.execute("SELECT count(*) FROM idsql.id_mapping").fetchone() == (1,)
    assert pyidsql.current_id(monitor, "PRJ") == permanent  # B allocated nothing


def test_assign_server_id_second_session_goes_ahead_when_the_first_rolls_back(
    sessions: tuple[Conn, Conn, Conn],
) -> None:
    a, b, monitor = sessions
    pyidsql.replace_id_everywhere(a, "project", "tmp_p1", "PRJ-A")
    with ThreadPoolExecutor(1) as pool:
        second: Future[dict[str, Any]] = pool.submit(pyidsql.replace_id_everywhere, b, "project", "tmp_p1", "PRJ-B")
        wait_until_blocked(monitor, b, a.info.backend_pid)
        a.rollback()
        assert second.result(timeout=30)["new_id"] == "PRJ-B"
    b.commit()
    assert monitor.execute("SELECT id, project_id FROM task").fetchall() == [("tmp_t1", "PRJ-B")]


def test_replace_id_everywhere_child_inserted_while_negotiating_fails_its_fk_check(
    sessions: tuple[Conn, Conn, Conn],
) -> None:
    a, b, monitor = sessions
    pyidsql.replace_id_everywhere(a, "project", "tmp_p1", "PRJ-1")
    with ThreadPoolExecutor(1) as pool:
        insert = pool.submit(b.execute, "INSERT INTO task VALUES ('tmp_t2', 'tmp_p1', 'late')")
        wait_until_blocked(monitor, b, a.info.backend_pid)
        a.commit()
        with pytest.raises(pg_errors.ForeignKeyViolation):
            insert.result(timeout=30)
    b.rollback()
    # consistent: no row points at the temporary ID
    assert monitor.execute("SELECT id, project_id FROM task ORDER BY id").fetchall() == [("tmp_t1", "PRJ-1")]


def test_enable_late_reference_resolution_child_inserted_while_negotiating_gets_the_permanent_id(
    sessions: tuple[Conn, Conn, Conn],
) -> None:
    a, b, monitor = sessions
    pyidsql.enable_late_reference_resolution(monitor, "task")
    pyidsql.replace_id_everywhere(a, "project", "tmp_p1", "PRJ-1")
    with ThreadPoolExecutor(1) as pool:
        insert = pool.submit(b.execute, "INSERT INTO task VALUES ('tmp_t2', 'tmp_p1', 'late')")
        wait_until_blocked(monitor, b, a.info.backend_pid)
        a.commit()
        insert.result(timeout=30)
    b.commit()
    assert monitor.execute("SELECT id, project_id FROM task ORDER BY id").fetchall() == [
        ("tmp_t1", "PRJ-1"),
        ("tmp_t2", "PRJ-1"),
    ]


def test_replace_id_everywhere_waits_for_a_child_inserted_just_before_and_rewrites_it(
    sessions: tuple[Conn, Conn, Conn],
) -> None:
    a, b, monitor = sessions
    b.execute("INSERT INTO task VALUES ('tmp_t2', 'tmp_p1', 'early')")  # holds FOR KEY SHARE on the project
    with ThreadPoolExecutor(1) as pool:
        negotiation: Future[dict[str, Any]] = pool.submit(
            pyidsql.replace_id_everywhere, a, "project", "tmp_p1", "PRJ-1"
        )
        wait_until_blocked(monitor, a, b.info.backend_pid)
        b.commit()
        assert negotiation.result(timeout=30)["touched"]["public.task"] == 2
    a.commit()
    assert monitor.execute("SELECT id, project_id FROM task ORDER BY id").fetchall() == [
        ("tmp_t1", "PRJ-1"),
        ("tmp_t2", "PRJ-1"),
    ]
