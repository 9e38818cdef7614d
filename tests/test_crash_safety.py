"""Crash safety: a server stopped with ``pg_ctl stop -m immediate`` under load, and backends killed mid-call.

The crash tests own a cluster of their own, started from the same binaries as the session's server
(PostgreSQL 15 in ``make test-15``, the embedded 18 in ``make test-18``) with durability on
(``fsync``, ``synchronous_commit``, ``full_page_writes``), since the shared test server runs without it.
Eight clients run the mixed workload of :mod:`workload` through every capability; the server is
crashed under them, restarted, and the database compared with what the clients saw commit.
``make test`` runs two rounds of a few seconds; ``make soak`` (``PYIDSQL_SOAK=1``) runs ten longer ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import soak
import workload
from test_prefixed_ids_concurrency import wait_until_blocked

import pyidsql
import pyidsql.install
from pyidsql.tooling.pgserver import PgServer, local_cluster, pg_ctl

DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "max_connections": "50"}
CLIENTS = 8
# make soak: ten crash rounds, a thirtieth of SOAK_SECONDS each (20 s for the default 10 minutes).
ROUNDS, SECONDS = (10, soak.SECONDS / 30) if soak.SOAK else (2, 4.0)

Conn = psycopg.Connection[Any]
Connect = Callable[..., Conn]


@pytest.fixture
def durable_server(pg_server: PgServer) -> Iterator[PgServer]:
    """A cluster of its own, durable, from the binaries of the session's server."""
    if pg_server.bindir is None:
        pytest.skip("the session's server (PYIDSQL_TEST_DSN) has no local binaries to start a cluster of our own")
    with local_cluster(pg_server.bindir, settings=DURABLE) as server:
        yield server


def _wait_for(dsn: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(dsn, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_pg_ctl_stop_immediate_under_load_loses_nothing_committed(durable_server: PgServer) -> None:
    dsn = durable_server.conninfo("postgres")
    with psycopg.connect(dsn) as c:
        pyidsql.install.install(c, channel="cli")
        c.commit()
    workload.setup(dsn)
    ledger = workload.Ledger()
    lines = []
    for round_ in range(ROUNDS):
        stop = threading.Event()
        threads = workload.run(dsn, CLIENTS, ledger, stop, seed=round_)
        time.sleep(SECONDS)  # the load runs meanwhile; what is checked is the outcome, not a timing
        before = sum(ledger.ops.values())
        assert pg_ctl(durable_server, "-m", "immediate", "stop").returncode == 0
        stop.set()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), "a client hung after the crash"
        assert pg_ctl(durable_server, "restart").returncode == 0, "the server did not come back after the crash"
        _wait_for(dsn)
        facts = workload.check(dsn, ledger)
        doubt = sum(len(v) for v in ledger.in_doubt.values())
        lines.append(f"  round {round_ + 1}: {before} transactions committed so far, {doubt} in doubt; {facts}")
    unexpected = {k: n for k, n in ledger.errors.items()
                  if k[1] not in workload.FAULT_STATES and k not in workload.EXPECTED}  # fmt: skip
    assert unexpected == {}, f"errors other than the crash: {unexpected}"
    assert all(ledger.ops[k] > 0 for k in workload.OPS), f"a capability never committed: {ledger.ops}"
    soak.report(
        f"Crash safety on PostgreSQL {durable_server.version}",
        [f"{ROUNDS} rounds of {SECONDS:.0f} s, {CLIENTS} clients, pg_ctl stop -m immediate at the end of each",
         *lines, f"  errors: {dict(ledger.errors)}"],
    )  # fmt: skip


def test_pg_terminate_backend_under_load_loses_nothing_committed(dsn: str) -> None:
    """A client backend terminated every few tens of milliseconds, mid-call, on the session's server."""
    workload.setup(dsn)
    ledger = workload.Ledger()
    stop = threading.Event()
    threads = workload.run(dsn, CLIENTS, ledger, stop, seed=7)
    killer = threading.Thread(target=workload.terminator, args=(dsn, stop, 0.03, 7, ledger), daemon=True)
    killer.start()
    time.sleep(SECONDS * ROUNDS)
    stop.set()
    for t in [*threads, killer]:
        t.join(timeout=60)
        assert not t.is_alive()
    facts = workload.check(dsn, ledger)
    unexpected = {k: n for k, n in ledger.errors.items()
                  if k[1] not in workload.FAULT_STATES and k not in workload.EXPECTED}  # fmt: skip
    assert unexpected == {}, f"errors other than the terminations: {unexpected}"
    assert ledger.ops["terminated backends"] > 0
    soak.report(
        "pg_terminate_backend under load",
        [f"{SECONDS * ROUNDS:.0f} s, {CLIENTS} clients, {ledger.ops['terminated backends']} backends terminated",
         f"  {facts}", f"  errors: {dict(ledger.errors)}"],
    )  # fmt: skip


# --- a backend killed at a known point of a call: while it waits inside the function --------------


def _kill_while_blocked(monitor: Conn, holder: Conn, victim: Conn, call: Callable[[], Any]) -> None:
    """Run *call* on *victim* until it waits for *holder*, terminate its backend, then let *holder* commit."""
    with ThreadPoolExecutor(1) as pool:
        pending: Future[Any] = pool.submit(call)
        wait_until_blocked(monitor, victim, holder.info.backend_pid)
        monitor.execute("SELECT pg_terminate_backend(%s)", (victim.info.backend_pid,))
        with pytest.raises((psycopg.OperationalError, pyidsql.IdsqlError)):
            pending.result(timeout=30)
    holder.commit()


def test_generate_id_backend_killed_mid_call_leaves_the_counter_whole(connect: Connect) -> None:
    monitor, holder, victim = connect(autocommit=True), connect(), connect()
    assert pyidsql.generate_id(holder, "CUS") == "CUS-AAA0001"
    _kill_while_blocked(monitor, holder, victim, lambda: pyidsql.generate_id(victim, "CUS"))
    assert pyidsql.current_id(monitor, "CUS") == "CUS-AAA0001"
    assert pyidsql.generate_id(monitor, "CUS") == "CUS-AAA0002"


def test_insert_with_retry_backend_killed_mid_call_leaves_no_row(connect: Connect) -> None:
    monitor, holder, victim = connect(autocommit=True), connect(), connect()
    monitor.execute("CREATE TABLE ticket (id bigint PRIMARY KEY, body text)")
    assert pyidsql.next_id(monitor, "ticket") == 1
    holder.execute("INSERT INTO ticket VALUES (2, 'explicit, uncommitted')")  # the ID the next call tries
    _kill_while_blocked(monitor, holder, victim, lambda: pyidsql.insert_with_retry(victim, "ticket", {"body": "v"}))
    assert monitor.execute("SELECT id, body FROM ticket").fetchall() == [(2, "explicit, uncommitted")]
    assert pyidsql.insert_with_retry(monitor, "ticket", {"body": "after"})["id"] > 2


def test_replace_id_everywhere_backend_killed_mid_call_leaves_no_mapping(connect: Connect) -> None:
    monitor, holder, victim = connect(autocommit=True), connect(), connect()
    monitor.execute(workload.SCHEMA)
    monitor.execute("INSERT INTO project VALUES ('tmp_p1', 'offline')")
    monitor.execute("INSERT INTO task VALUES ('tmp_t1', 'tmp_p1', 't')")
    listener = connect(autocommit=True)
    listener.execute("LISTEN idsql_id_changed")
    holder.execute("SELECT * FROM task WHERE id = 'tmp_t1' FOR UPDATE")  # the rewrite must wait for it
    _kill_while_blocked(monitor, holder, victim, lambda: pyidsql.assign_server_id(victim, "project", "tmp_p1"))
    assert monitor.execute("SELECT count(*) FROM idsql.id_mapping").fetchone() == (0,)
    assert monitor.execute("SELECT count(*) FROM idsql.id_change_log").fetchone() == (0,)
    assert monitor.execute("SELECT id, project_id FROM task").fetchall() == [("tmp_t1", "tmp_p1")]
    assert list(listener.notifies(timeout=0.5)) == []
    assert pyidsql.assign_server_id(monitor, "project", "tmp_p1") == "PRJ-AAA0001"


def test_enable_state_version_backend_killed_mid_bump_counts_nothing(connect: Connect) -> None:
    monitor, holder, victim = connect(autocommit=True), connect(), connect()
    monitor.execute(workload.SCHEMA)
    monitor.execute("INSERT INTO doc_root (id) VALUES ('R'); INSERT INTO doc_part (id, root_id) VALUES ('P', 'R')")
    holder.execute("UPDATE doc_root SET title = 'held' WHERE id = 'R'")  # version 2, uncommitted
    _kill_while_blocked(monitor, holder, victim,
                        lambda: victim.execute("UPDATE doc_part SET body = 'lost' WHERE id = 'P'"))  # fmt: skip
    assert monitor.execute("SELECT state_version FROM doc_root").fetchone() == (2,)
    assert monitor.execute("SELECT state_version, body FROM doc_part").fetchone() == (1, None)
    history = pyidsql.row_history(monitor, "doc_root", {"id": "R"})
    assert [h.state_version for h in history] == [1, 2]
