"""Sequence repair on a live database: real connections, asserted outcomes, no sleeps."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

import pyidsql

Connect = Callable[..., psycopg.Connection[Any]]


def wait_until_blocked(monitor: psycopg.Connection[Any], waiter_pid: int, holder_pid: int) -> None:
    """Return once *waiter_pid* waits on a lock held by *holder_pid* (bounded poll)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = monitor.execute("SELECT pg_blocking_pids(%s)", (waiter_pid,)).fetchone()
        if row and holder_pid in row[0]:
            return
        time.sleep(0.01)
    raise AssertionError("the fix never waited for the writer")


def test_fix_all_sequences_while_another_connection_inserts_never_duplicates(connect: Connect) -> None:
    """A writer inserts through the sequence in open transactions while fixes run in a loop.

    The fixes may even rewind (allow_backward): rows still uncommitted are invisible to max(),
    so without the table lock a fix would set the sequence back under values already handed out
    and the writer's next insert would collide. The lock makes each fix wait for the writer.
    """
    setup = connect(autocommit=True)
    setup.execute("CREATE TABLE live (id serial PRIMARY KEY)")
    setup.execute("CREATE TABLE other (id serial PRIMARY KEY)")
    setup.execute("INSERT INTO other VALUES (3)")
    writer = connect()
    fixer = connect(autocommit=True)
    done = threading.Event()
    fixes = 0

    def fix_in_a_loop() -> None:
        nonlocal fixes
        while not done.is_set():
            fixer.execute("CALL idsql.fix_all_sequences(allow_backward => true)")
            fixes += 1

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(fix_in_a_loop)
        try:
            for _ in range(200):
                with writer.transaction():
                    for _ in range(5):
                        writer.execute("INSERT INTO live DEFAULT VALUES")
        finally:
            done.set()
            future.result(timeout=60)
    assert fixes > 0
    count = setup.execute("SELECT count(*), max(id) FROM live").fetchone()
    assert count is not None and count[0] == 1000
    assert [r.status for r in pyidsql.sequence_report(setup) if r.table_name == "live"] == ["ok"]


def test_fix_sequence_waits_for_a_writer_and_sees_its_rows(connect: Connect) -> None:
    setup = connect(autocommit=True)
    setup.execute("CREATE TABLE t (id serial PRIMARY KEY)")
    writer, fixer, reader = connect(), connect(), connect(autocommit=True)
    writer.execute("INSERT INTO t VALUES (100)")  # an import, not committed yet
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(pyidsql.fix_sequence, fixer, "t", "id")
        wait_until_blocked(setup, fixer.info.backend_pid, writer.info.backend_pid)
        writer.commit()
        assert future.result(timeout=30) == 101
    # the fixer holds the lock until it commits: readers go on, writers wait
    assert reader.execute("SELECT max(id) FROM t").fetchone() == (100,)
    fixer.commit()
    assert writer.execute("INSERT INTO t DEFAULT VALUES RETURNING id").fetchone() == (101,)
    writer.commit()


def test_fix_all_sequences_reports_a_table_it_cannot_lock_and_fixes_the_others(connect: Connect) -> None:
    setup = connect(autocommit=True)
    setup.execute("CREATE TABLE busy (id serial)")
    setup.execute("CREATE TABLE quiet (id serial)")
    setup.execute("INSERT INTO busy VALUES (5)")
    setup.execute("INSERT INTO quiet VALUES (7)")
    holder = connect()
    holder.execute("INSERT INTO busy VALUES (6)")  # holds ROW EXCLUSIVE on busy until commit

    fixer = connect(autocommit=True)
    fixer.execute("SET lock_timeout = '100ms'")
    messages: list[tuple[str, str]] = []
    fixer.add_notice_handler(lambda d: messages.append((d.severity_nonlocalized or "", d.message_primary or "")))
    fixer.execute("CALL idsql.fix_all_sequences()")
    assert messages == [
        ("WARNING", "Skipped busy.id sequence: could not lock table public.busy within lock_timeout (100ms)"),
        ("NOTICE", "Fixed quiet.id sequence (max: 7, next: 8)"),
        ("NOTICE", "Successfully fixed 1 sequence(s)!"),
    ]
    # the function variant reports it the same way, and fix_sequence raises lock_not_available
    with fixer.transaction():
        actions = {r.table_name: r.action for r in pyidsql.fix_all_sequences_report(fixer)}
    assert actions == {"busy": "skipped_locked", "quiet": "unchanged"}
    with pytest.raises(psycopg.errors.LockNotAvailable, match="within lock_timeout"):
        pyidsql.fix_sequence(fixer, "busy", "id")

    holder.commit()
    assert {r.table_name: r.action for r in pyidsql.fix_all_sequences(fixer)}["busy"] == "fixed"
    assert setup.execute("INSERT INTO busy DEFAULT VALUES RETURNING id").fetchone() == (7,)
