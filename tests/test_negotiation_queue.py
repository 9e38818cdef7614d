"""The sync queue, late references and the listener of ID negotiation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

import pyidsql
import pyidsql.aio
from pyidsql import errors

Conn = psycopg.Connection[Any]
Connect = Callable[..., Conn]

SCHEMA = """
CREATE TABLE project (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE task (id text PRIMARY KEY, project_id text NOT NULL REFERENCES project, name text NOT NULL);
SELECT idsql.set_id_strategy('project', 'server', 'prefix:PRJ');
SELECT idsql.set_id_strategy('task', 'server', 'prefix:TSK');
INSERT INTO project VALUES ('tmp_p1', 'one'), ('tmp_p2', 'two'), ('tmp_p3', 'three');
INSERT INTO task VALUES ('tmp_t1', 'tmp_p1', 'first');
"""


# --- the queue


def test_enqueue_sync_records_the_temporary_client_id_of_a_create(conn: Conn) -> None:
    conn.execute(SCHEMA)
    create = pyidsql.enqueue_sync(conn, "project", "tmp_p1", "create", {"name": "one"})
    update = pyidsql.enqueue_sync(conn, "project", "tmp_p1", "update", {"name": "uno"})
    query = "SELECT id, temporary_client_id, id_negotiation_status FROM idsql.sync_queue"
    items = {r[0]: r[1:] for r in conn.execute(query)}
    assert items == {create: ("tmp_p1", "pending"), update: (None, "pending")}
    with pytest.raises(pg_errors.InvalidParameterValue), conn.transaction():
        pyidsql.enqueue_sync(conn, "project", "tmp_p1", "upsert")  # type: ignore[arg-type]


def test_claim_sync_batch_skips_items_another_worker_holds(connect: Connect) -> None:
    setup, w1, w2 = connect(autocommit=True), connect(), connect()
    setup.execute(SCHEMA)
    ids = [pyidsql.enqueue_sync(setup, "project", f"tmp_p{i}", "create") for i in (1, 2, 3)]
    first = pyidsql.claim_sync_batch(w1, 2)  # w1's transaction stays open: its rows stay locked
    second = pyidsql.claim_sync_batch(w2, 5)  # does not wait: takes what is left
    assert [i.id for i in first] == ids[:2]
    assert [i.id for i in second] == ids[2:]
    assert {i.id_negotiation_status for i in first + second} == {"in_progress"}
    assert [i.attempts for i in first + second] == [1, 1, 1]
    w2.rollback()
    assert [i.id for i in pyidsql.claim_sync_batch(w2, 5)] == ids[2:]


def test_complete_sync_with_a_server_id_replaces_the_temporary_id_everywhere(conn: Conn) -> None:
    conn.execute(SCHEMA)
    item_id = pyidsql.enqueue_sync(conn, "project", "tmp_p1", "create", {"name": "one"})
    pyidsql.enqueue_sync(conn, "task", "tmp_t1", "create", {"project_id": "tmp_p1"})
    [item, _] = pyidsql.claim_sync_batch(conn, 2)
    assert item.id == item_id
    done = pyidsql.complete_sync(conn, item.id, "PRJ-42")
    assert (done.id_negotiation_status, done.model_id, done.temporary_client_id) == ("complete", "PRJ-42", "PRJ-42")
    assert conn.execute("SELECT project_id FROM task").fetchone() == ("PRJ-42",)
    assert conn.execute("SELECT payload FROM idsql.sync_queue WHERE model_type = 'task'::regclass").fetchone() == (
        {"project_id": "PRJ-42"},
    )


def test_fail_sync_records_the_error_and_retries_until_max_attempts(conn: Conn) -> None:
    conn.execute(SCHEMA)
    item_id = pyidsql.enqueue_sync(conn, "project", "tmp_p1", "create")
    for attempt in (1, 2):
        [item] = pyidsql.claim_sync_batch(conn, 1, max_attempts=2)
        failed = pyidsql.fail_sync(conn, item.id, f"HTTP 503 #{attempt}")
        assert (failed.id_negotiation_status, failed.attempts) == ("failed", attempt)
        assert failed.last_error == f"HTTP 503 #{attempt}"
    assert pyidsql.claim_sync_batch(conn, 1, max_attempts=2) == []
    [item] = pyidsql.claim_sync_batch(conn, 1, max_attempts=3)
    conflict = pyidsql.fail_sync(conn, item_id, "HTTP 409", conflict=True)
    assert conflict.id_negotiation_status == "conflict"
    assert pyidsql.claim_sync_batch(conn, 1, max_attempts=10) == []


def test_complete_sync_refuses_illegal_status_transitions(conn: Conn) -> None:
    conn.execute(SCHEMA)
    item_id = pyidsql.enqueue_sync(conn, "project", "tmp_p1", "create")
    with pytest.raises(errors.InvalidStatusTransition) as excinfo, conn.transaction():
        pyidsql.complete_sync(conn, item_id)  # pending -> complete skips in_progress
    assert str(excinfo.value).startswith(f"sync item {item_id} cannot go from pending to complete")
    pyidsql.claim_sync_batch(conn, 1)
    pyidsql.complete_sync(conn, item_id)
    with pytest.raises(psycopg.DatabaseError) as raw, conn.transaction():
        conn.execute("UPDATE idsql.sync_queue SET id_negotiation_status = 'pending'")  # by hand, too
    assert raw.value.sqlstate == "ID412"
    with pytest.raises(errors.SyncItemNotFound), conn.transaction():
        pyidsql.fail_sync(conn, 999, "nope")


# --- late references


def test_enable_late_reference_resolution_rewrites_a_replaced_temporary_id(conn: Conn) -> None:
    conn.execute(SCHEMA)
    pyidsql.replace_id_everywhere(conn, "project", "tmp_p2", "PRJ-2")
    with pytest.raises(pg_errors.ForeignKeyViolation), conn.transaction():
        conn.execute("INSERT INTO task VALUES ('tmp_t2', 'tmp_p2', 'late')")
    pyidsql.enable_late_reference_resolution(conn, "task")
    pyidsql.enable_late_reference_resolution(conn, "task")  # idempotent
    conn.execute("INSERT INTO task VALUES ('tmp_t2', 'tmp_p2', 'late')")
    conn.execute("UPDATE task SET project_id = 'tmp_p2' WHERE id = 'tmp_t1'")
    assert conn.execute("SELECT id, project_id FROM task ORDER BY id").fetchall() == [
        ("tmp_t1", "PRJ-2"),
        ("tmp_t2", "PRJ-2"),
    ]
    with pytest.raises(pg_errors.ForeignKeyViolation), conn.transaction():
        conn.execute("INSERT INTO task VALUES ('tmp_t3', 'tmp_never', 'unknown')")  # not mapped: the FK error stands


def test_enable_late_reference_resolution_reject_mode_names_the_mapping(conn: Conn) -> None:
    conn.execute(SCHEMA)
    pyidsql.replace_id_everywhere(conn, "project", "tmp_p2", "PRJ-2")
    pyidsql.enable_late_reference_resolution(conn, "task", "reject")
    with pytest.raises(pg_errors.ForeignKeyViolation) as excinfo, conn.transaction():
        conn.execute("INSERT INTO task VALUES ('tmp_t2', 'tmp_p2', 'late')")
    assert excinfo.value.diag.message_detail == (
        "Key (project_id)=(tmp_p2) was replaced by (PRJ-2) in table public.project (idsql.id_mapping)."
    )


def test_disable_late_reference_resolution_removes_the_trigger(conn: Conn) -> None:
    conn.execute(SCHEMA)
    pyidsql.enable_late_reference_resolution(conn, "task")
    pyidsql.disable_late_reference_resolution(conn, "task")
    pyidsql.disable_late_reference_resolution(conn, "task")  # idempotent
    assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'idsql_negotiation_resolve'").fetchone() == (0,)


# --- the listener


def test_listen_id_changes_yields_committed_replacements_once(connect: Connect) -> None:
    worker, listener = connect(autocommit=True), connect(autocommit=True)
    worker.execute(SCHEMA)
    first = pyidsql.replace_id_everywhere(worker, "project", "tmp_p1", "PRJ-1")
    events = pyidsql.listen_id_changes(listener, since_log_id=0, timeout=10)
    replayed = next(events)  # from the log; the LISTEN is in place from here on
    assert (replayed.log_id, replayed.table, replayed.old_id, replayed.new_id) == (
        first["log_id"],
        "public.project",
        "tmp_p1",
        "PRJ-1",
    )
    assert replayed.touched == {"public.project": 1, "public.task": 1, "idsql.sync_queue": 0}
    with worker.transaction(force_rollback=True):
        pyidsql.replace_id_everywhere(worker, "project", "tmp_p2", "PRJ-ROLLED-BACK")
    live = pyidsql.replace_id_everywhere(worker, "project", "tmp_p3", "PRJ-3")
    event = next(events)
    assert (event.log_id, event.new_id) == (live["log_id"], "PRJ-3")


def test_listen_id_changes_after_reconnecting_receives_what_it_missed(connect: Connect) -> None:
    worker = connect(autocommit=True)
    worker.execute(SCHEMA)
    seen = pyidsql.replace_id_everywhere(worker, "project", "tmp_p1", "PRJ-1")["log_id"]
    # the listener is away while two replacements commit
    pyidsql.replace_id_everywhere(worker, "project", "tmp_p2", "PRJ-2")
    pyidsql.negotiate_ids(worker, [{"table": "project", "temp_id": "tmp_p3"}, {"table": "task", "temp_id": "tmp_t1"}])
    listener = connect(autocommit=True)
    missed = list(pyidsql.listen_id_changes(listener, since_log_id=seen, timeout=0.5))
    assert [(e.old_id, e.new_id) for e in missed] == [
        ("tmp_p2", "PRJ-2"),
        ("tmp_p3", "PRJ-AAA0001"),
        ("tmp_t1", "TSK-AAA0001"),
    ]


def test_negotiate_ids_sends_one_notification_for_the_batch(connect: Connect) -> None:
    worker, raw, listener = connect(autocommit=True), connect(autocommit=True), connect(autocommit=True)
    worker.execute(SCHEMA)
    pyidsql.replace_id_everywhere(worker, "task", "tmp_t1", "T-1")
    events = pyidsql.listen_id_changes(listener, since_log_id=0, timeout=10)
    assert next(events).new_id == "T-1"  # replayed; the listener is LISTENing from here on
    raw.execute("LISTEN idsql_id_changed")
    pyidsql.negotiate_ids(worker, [{"table": "project", "temp_id": f"tmp_p{i}", "new_id": f"P-{i}"} for i in (1, 2, 3)])
    assert len(list(raw.notifies(timeout=1))) == 1
    assert [next(events).new_id for _ in range(3)] == ["P-1", "P-2", "P-3"]


def test_listen_id_changes_needs_autocommit(connect: Connect) -> None:
    with pytest.raises(psycopg.ProgrammingError, match="autocommit"):
        next(pyidsql.listen_id_changes(connect()))


async def test_listen_id_changes_async_replays_then_follows(connect: Connect, aconn: Any) -> None:
    worker = connect(autocommit=True)
    worker.execute(SCHEMA)
    first = await pyidsql.aio.replace_id_everywhere(aconn, "project", "tmp_p1", "PRJ-1")
    listener = await psycopg.AsyncConnection.connect(aconn.info.dsn, autocommit=True)
    try:
        events = pyidsql.aio.listen_id_changes(listener, since_log_id=first["log_id"] - 1, timeout=10)
        assert (await anext(events)).new_id == "PRJ-1"
        await pyidsql.aio.negotiate_ids(aconn, [{"table": "project", "temp_id": "tmp_p2", "new_id": "PRJ-2"}])
        assert (await anext(events)).new_id == "PRJ-2"
    finally:
        await listener.close()


def test_replace_id_everywhere_notification_stays_under_8000_bytes(connect: Connect) -> None:
    worker, raw, listener = connect(autocommit=True), connect(autocommit=True), connect(autocommit=True)
    worker.execute(SCHEMA)
    old, new = "tmp_" + "a" * 4100, "P-" + "b" * 4100  # together past NOTIFY's 8000 bytes
    worker.execute("INSERT INTO project VALUES (%s, 'long')", (old,))
    raw.execute("LISTEN idsql_id_changed")
    log_id = pyidsql.replace_id_everywhere(worker, "project", old, new)["log_id"]
    [note] = list(raw.notifies(timeout=5, stop_after=1))
    assert json.loads(note.payload) == {"table": "public.project", "log_id": log_id}
    [event] = list(pyidsql.listen_id_changes(listener, since_log_id=log_id - 1, timeout=0.2))
    assert (event.old_id, event.new_id) == (old, new)  # in full, from the log
