"""Table IDs under concurrency: nobody waits, IDs taken by other transactions, no subtransactions, four processes."""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
import soak
from psycopg import errors as pg_errors
from test_prefixed_ids_concurrency import wait_until_blocked

import pyidsql
from pyidsql import IDManager, errors

Conn = psycopg.Connection[Any]
Connect = Callable[..., Conn]

CHAT_HISTORY = "CREATE TABLE chat_history (id bigint PRIMARY KEY, user_id text NOT NULL)"

# Reads this backend's subtransaction cache (PostgreSQL 16+): subxact_count is the number of
# subtransactions with an XID still open or committed in the current top-level transaction.
OWN_SUBXACTS = """
SELECT s.subxact_count, s.subxact_overflowed
  FROM pg_stat_get_backend_idset() AS b (id), pg_stat_get_backend_subxact(b.id) AS s
 WHERE pg_stat_get_backend_pid(b.id) = pg_backend_pid()
"""


@pytest.fixture
def trio(connect: Connect) -> tuple[Conn, Conn, Conn]:
    """Two transactional connections (a calls idsql, b inserts explicit IDs) and an autocommit monitor."""
    monitor = connect(autocommit=True)
    monitor.execute(CHAT_HISTORY)
    return connect(), connect(), monitor


def _taken_while_waiting(trio: Any, taken: int, call: Callable[[], Any], finish: Callable[[Conn], None]) -> Any:
    """Have b insert ID *taken* and hold it; run *call* on a until it waits for b; *finish* b; return the result."""
    a, b, monitor = trio
    b.execute("INSERT INTO chat_history (id, user_id) VALUES (%s, 'explicit')", (taken,))
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(call)
        wait_until_blocked(monitor, a, b.info.backend_pid)
        finish(b)
        return result.result(timeout=30)


def _ids(conn: Conn) -> list[tuple[int, str]]:
    return conn.execute("SELECT id, user_id FROM chat_history ORDER BY id").fetchall()  # type: ignore[return-value]


def _conflicts(conn: Conn) -> int:
    row = conn.execute("SELECT conflicts FROM idsql.table_counter WHERE table_name = 'chat_history'::regclass")
    return int(row.fetchone()[0])  # type: ignore[index]


@pytest.fixture
def held(connect: Connect) -> tuple[Conn, Conn]:
    """Two transactional connections; b gives up on any lock wait after 5 s instead of hanging."""
    setup = connect(autocommit=True)
    setup.execute(CHAT_HISTORY)
    pyidsql.initialize_table(setup, "chat_history")
    b = connect()
    b.execute("SET lock_timeout = '5s'")
    b.commit()
    return connect(), b


def test_next_id_does_not_wait_for_an_open_transaction(held: tuple[Conn, Conn]) -> None:
    a, b = held
    assert pyidsql.next_id(a, "chat_history") == 1
    assert pyidsql.insert_with_retry(a, "chat_history", {"user_id": "a"})["id"] == 2
    # a keeps its transaction open; b neither waits (lock_timeout would raise) nor reuses a's IDs.
    assert pyidsql.next_id(b, "chat_history") == 3
    assert pyidsql.insert_with_retry(b, "chat_history", {"user_id": "b"})["id"] == 4
    b.commit()
    a.commit()
    assert _ids(b) == [(2, "a"), (4, "b")]


def test_next_id_resync_past_an_explicit_id_does_not_wait(held: tuple[Conn, Conn]) -> None:
    a, b = held
    assert pyidsql.next_id(a, "chat_history") == 1
    b.execute("INSERT INTO chat_history (id, user_id) VALUES (50, 'explicit')")
    b.commit()
    # a re-syncs past 50 in its open transaction; b, in the same state, does not wait for it.
    assert pyidsql.insert_with_retry(a, "chat_history", {"user_id": "a"})["id"] == 51
    assert pyidsql.insert_with_retry(b, "chat_history", {"user_id": "b"})["id"] == 52
    b.commit()
    a.rollback()
    assert _ids(b) == [(50, "explicit"), (52, "b")]
    assert pyidsql.next_id(b, "chat_history") == 53, "the rollback of 51 left a hole, never refilled"


def test_insert_with_retry_skips_an_id_taken_by_a_concurrent_transaction(trio: Any) -> None:
    a, _, monitor = trio
    assert pyidsql.insert_with_retry(a, "chat_history", {"user_id": "first"})["id"] == 1
    a.commit()
    # next_id() cannot see b's uncommitted row 2, so a tries 2, waits for b, finds it taken, and
    # retries 4 IDs further on: explicit IDs are being written at the head of the table.
    row = _taken_while_waiting(
        trio, 2, lambda: pyidsql.insert_with_retry(a, "chat_history", {"user_id": "a"}), lambda b: b.commit()
    )
    a.commit()
    assert row == {"id": 6, "user_id": "a"}
    assert _ids(monitor) == [(1, "first"), (2, "explicit"), (6, "a")]
    assert _conflicts(monitor) == 1


def test_insert_with_retry_retries_past_the_explicit_ids_written_meanwhile(trio: Any) -> None:
    a, _, monitor = trio

    def finish(b: Conn) -> None:
        b.execute("INSERT INTO chat_history (id, user_id) SELECT g, 'explicit' FROM generate_series(2, 6) AS g")
        b.commit()

    # a tries 1 and waits; b commits 1 and also 2..6. Writers of explicit IDs aim just above
    # max(id), so the retry lands 4 past the max (10), not at max + 1 (7).
    row = _taken_while_waiting(trio, 1, lambda: pyidsql.insert_with_retry(a, "chat_history", {"user_id": "a"}), finish)
    a.commit()
    assert row == {"id": 10, "user_id": "a"}
    assert _conflicts(monitor) == 1


def test_insert_with_retry_takes_the_id_back_when_the_other_transaction_rolls_back(trio: Any) -> None:
    a, _, monitor = trio
    row = _taken_while_waiting(
        trio, 1, lambda: pyidsql.insert_with_retry(a, "chat_history", {"user_id": "a"}), lambda b: b.rollback()
    )
    a.commit()
    assert row == {"id": 1, "user_id": "a"}
    assert _conflicts(monitor) == 0


def test_a_race_for_the_id_just_taken_does_not_use_up_an_attempt(trio: Any) -> None:
    """b commits the very ID a is inserting: a waits, loses, and takes the next one even with 1 attempt."""
    a, _, monitor = trio
    row = _taken_while_waiting(
        trio,
        1,
        lambda: pyidsql.insert_with_retry(a, "chat_history", {"user_id": "a"}, retry_attempts=1),
        lambda b: b.commit(),
    )
    a.commit()
    assert row["id"] > 1
    assert _conflicts(monitor) == 1
    assert [user for _, user in _ids(monitor)] == ["explicit", "a"]


def test_insert_with_retry_loses_more_races_in_a_row_than_it_has_attempts(connect: Connect) -> None:
    """Six writers of explicit IDs each hold the range a's next try lands in; a loses to each, then inserts.

    Each holder inserts its block of IDs above the last and keeps it uncommitted, so max(id) cannot
    see it. a takes the first ID of the first block and waits for its holder; when that holder
    commits, a retries past the committed max and lands in the next block, and waits again. Every
    wait is checked (pg_blocking_pids) before its holder commits, so a really loses six races with
    the default 3 attempts: a race for the ID just taken costs no attempt.
    """
    monitor = connect(autocommit=True)
    monitor.execute(CHAT_HISTORY)
    pyidsql.initialize_table(monitor, "chat_history")
    block = 5_000  # wider than any retry jumps in six tries (4^6 = 4,096)
    holders = [connect() for _ in range(6)]
    for n, holder in enumerate(holders):
        holder.execute(
            "INSERT INTO chat_history (id, user_id) SELECT g, %s FROM generate_series(%s::bigint, %s) AS g",
            (f"holder{n}", n * block + 1, (n + 1) * block),
        )
    a = connect()
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(pyidsql.insert_with_retry, a, "chat_history", {"user_id": "a"})
        for holder in holders:
            wait_until_blocked(monitor, a, holder.info.backend_pid, result)  # raises what a gave up with
            holder.commit()
        row = result.result(timeout=30)
    a.commit()
    assert row["id"] > len(holders) * block
    assert _conflicts(monitor) == len(holders)
    count = monitor.execute("SELECT count(*) FROM chat_history WHERE user_id = 'a'").fetchone()
    assert count == (1,)


# A trigger that gives the rows of user "same" ID 1: each try conflicts on an ID the insert did
# not take, which trying further on cannot outrun. That is what the attempts are for.
SAME_ID = """
CREATE FUNCTION same_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_id = 'same' THEN NEW.id := 1; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER same_id BEFORE INSERT ON chat_history FOR EACH ROW EXECUTE FUNCTION same_id();
INSERT INTO chat_history (id, user_id) VALUES (1, 'first');
"""


def test_insert_with_retry_raises_when_every_attempt_is_taken(trio: Any) -> None:
    a, _, monitor = trio
    monitor.execute(SAME_ID)
    with pytest.raises(errors.RetriesExhausted) as excinfo:
        pyidsql.insert_with_retry(a, "chat_history", {"user_id": "same"}, retry_attempts=3)
    assert str(excinfo.value).startswith('could not insert into "public.chat_history" after 3 attempts\n')
    assert isinstance(excinfo.value.__cause__, psycopg.Error)
    a.rollback()
    assert _ids(monitor) == [(1, "first")]
    # One conflict per attempt, none beyond: it gave up at the budget (IDManager keeps the count).
    assert IDManager(a, retry_attempts=3).insert_with_retry("chat_history", {"user_id": "same"}) is None
    assert _conflicts(a) == 3


def test_id_manager_insert_with_retry_returns_none_and_logs(trio: Any, caplog: pytest.LogCaptureFixture) -> None:
    a, _, monitor = trio
    monitor.execute(SAME_ID)
    manager = IDManager(a, retry_attempts=1)
    with caplog.at_level(logging.ERROR, logger="pyidsql.table_ids"):
        result = manager.insert_with_retry("chat_history", {"user_id": "same"})
    assert result is None
    assert caplog.messages == ["insert into chat_history failed after 1 attempt(s): the ID was taken each time"]
    # The original contract: None, and the caller goes on, in the same transaction.
    assert manager.insert_with_retry("chat_history", {"user_id": "again"})["user_id"] == "again"
    a.commit()
    assert [user for _, user in _ids(monitor)] == ["first", "again"]


def _own_subxacts(conn: Conn) -> tuple[int, bool]:
    row = conn.execute(OWN_SUBXACTS).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


@pytest.mark.slow
def test_insert_with_retry_opens_no_subtransaction(trio: Any) -> None:
    a, _, monitor = trio
    if a.info.server_version < 160000:
        pytest.skip("pg_stat_get_backend_subxact() needs PostgreSQL 16 or later")

    # The probe sees subtransactions: one EXCEPTION block that writes, per loop turn.
    a.execute(
        "DO $$ BEGIN FOR i IN 1..3 LOOP"
        " BEGIN INSERT INTO chat_history VALUES (-i, 'probe'); EXCEPTION WHEN unique_violation THEN NULL; END;"
        " END LOOP; END $$"
    )
    assert _own_subxacts(a) == (3, False)
    a.rollback()

    # 200 calls in one transaction, each finding its first ID taken by b and retrying.
    pyidsql.next_id(a, "chat_history")
    a.commit()
    expected = 1
    for n in range(200):
        expected += 1
        row = _taken_while_waiting(
            trio,
            expected,
            lambda n=n: pyidsql.insert_with_retry(a, "chat_history", {"user_id": f"a{n}"}),
            lambda b: b.commit(),
        )
        expected += 4
        assert row["id"] == expected, "the call did not skip the taken ID"
    assert _conflicts(a) == 200
    assert _own_subxacts(a) == (0, False)
    a.commit()
    assert len(_ids(monitor)) == 400


# -- four processes --------------------------------------------------------------------------

# make soak (PYIDSQL_SOAK=1) runs the mixed load for a quarter of PYIDSQL_SOAK_SECONDS per writer
# count, long enough to have seen insert_with_retry give up before it stopped counting races.
SECONDS = soak.SECONDS / 4 if soak.SOAK else 10.0
EXPLICIT_SHARE = 0.2


def _writer(dsn: str, number: int, seconds: float, results: Any) -> None:
    """Insert for *seconds*: mostly through IDManager.insert_with_retry, some with explicit IDs."""
    rng = random.Random(number)
    report: dict[str, Any] = {"idsql": [], "explicit": [], "explicit_refused": 0, "failed": [], "errors": []}
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            manager = IDManager(conn)
            deadline = time.monotonic() + seconds
            n = 0
            while time.monotonic() < deadline:
                n += 1
                payload = f"w{number}-{n}"
                if rng.random() < EXPLICIT_SHARE:
                    # A manual insert right where the counter is heading: max(id) + 1 to 3.
                    try:
                        conn.execute(
                            "INSERT INTO chat_history (id, user_id)"
                            " SELECT coalesce(max(id), 0) + %s, %s FROM chat_history",
                            (rng.randint(1, 3), payload),
                        )
                    except pg_errors.UniqueViolation:
                        report["explicit_refused"] += 1  # the plain INSERT lost the race: not our failure
                    else:
                        report["explicit"].append(payload)
                    continue
                row = manager.insert_with_retry("chat_history", {"user_id": payload})
                if row is None:
                    report["failed"].append(payload)
                else:
                    report["idsql"].append((payload, row["id"]))
    except Exception as exc:  # reported to the parent, which fails the test
        report["errors"].append(repr(exc))
    results.put(report)


@pytest.mark.slow
@pytest.mark.parametrize("writers", [4, 16])
def test_insert_with_retry_processes_with_explicit_ids(dsn: str, connect: Connect, writers: int) -> None:
    setup = connect(autocommit=True)
    setup.execute(CHAT_HISTORY)
    pyidsql.initialize_table(setup, "chat_history")
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(dsn, n, SECONDS, results)) for n in range(writers)]
    began = time.monotonic()
    for p in procs:
        p.start()
    reports = [results.get(timeout=SECONDS + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    took = time.monotonic() - began
    failed = [f for r in reports for f in r["failed"]]
    inserted = sum(len(r["idsql"]) for r in reports)
    soak.report(
        f"insert_with_retry beside explicit IDs, {writers} processes",
        [
            f"- {took:.0f} s; {inserted:,} rows through insert_with_retry, "
            f"{sum(len(r['explicit']) for r in reports):,} with explicit IDs at max(id) + 1 to 3",
            f"- conflicts met: {_conflicts(setup):,}; gave up: {len(failed)}",
        ],
    )

    assert [e for r in reports for e in r["errors"]] == []
    assert failed == [], "insert_with_retry gave up"
    assert took >= SECONDS
    by_idsql = {payload: row_id for r in reports for payload, row_id in r["idsql"]}
    explicit = {payload for r in reports for payload in r["explicit"]}
    assert len(by_idsql) > 100 and explicit, "the writers hardly ran"

    rows = setup.execute("SELECT id, user_id FROM chat_history").fetchall()
    counts = Counter(user_id for _, user_id in rows)
    assert [p for p, c in counts.items() if c > 1] == [], "a row was inserted twice"
    assert set(counts) == set(by_idsql) | explicit, "rows lost or unexpected"
    stored = dict((user_id, row_id) for row_id, user_id in rows)
    assert {p: stored[p] for p in by_idsql} == by_idsql, "insert_with_retry returned another row's ID"
    # The retry path really ran: explicit IDs landed on IDs insert_with_retry was trying.
    assert _conflicts(setup) > 0, "no insert met a taken ID: the test did not exercise the retries"
