"""Prefixed IDs under concurrency: real connections, exact interleavings, asserted outcomes."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import idref
import psycopg
import pytest
from psycopg import errors as pg_errors

import pyidsql

Connect = Callable[..., psycopg.Connection[Any]]


def wait_until_blocked(
    monitor: psycopg.Connection[Any],
    waiter: psycopg.Connection[Any],
    holder_pid: int,
    call: Future[Any] | None = None,
) -> None:
    """Return once *waiter*'s backend waits on a lock held by *holder_pid* (bounded poll, not a sleep-and-hope).

    *call*, the waiter's call running in a thread, fails the wait as soon as it has ended instead
    (with its own error, if it raised one): it cannot be waiting any more.
    """
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = monitor.execute("SELECT pg_blocking_pids(%s)", (waiter.info.backend_pid,)).fetchone()
        if row and holder_pid in row[0]:
            return
        if call is not None and call.done():
            call.result()
            raise AssertionError("the second caller returned before it waited for the first")
        time.sleep(0.01)
    raise AssertionError("the second caller never waited for the first")


@pytest.fixture
def pair(connect: Connect) -> tuple[psycopg.Connection[Any], psycopg.Connection[Any], psycopg.Connection[Any]]:
    """Two transactional connections and an autocommit monitor."""
    return connect(), connect(), connect(autocommit=True)


def _race(pair: Any, prefix: str, finish_first: Callable[[psycopg.Connection[Any]], None]) -> str:
    a, b, monitor = pair
    with ThreadPoolExecutor(1) as pool:
        second: Future[str] = pool.submit(pyidsql.generate_id, b, prefix)
        wait_until_blocked(monitor, b, a.info.backend_pid)
        assert not second.done()
        finish_first(a)
        result = second.result(timeout=30)
    b.commit()
    return result


def test_generate_id_second_caller_waits_then_gets_the_next(pair: Any) -> None:
    a, _, _ = pair
    pyidsql.generate_id(a, "CUS")
    a.commit()
    assert pyidsql.generate_id(a, "CUS") == "CUS-AAA0002"
    assert _race(pair, "CUS", lambda c: c.commit()) == "CUS-AAA0003"


def test_generate_id_first_caller_rolls_back_second_reuses_the_number(pair: Any) -> None:
    a, _, _ = pair
    pyidsql.generate_id(a, "CUS")
    a.commit()
    assert pyidsql.generate_id(a, "CUS") == "CUS-AAA0002"
    assert _race(pair, "CUS", lambda c: c.rollback()) == "CUS-AAA0002"


def test_generate_id_first_use_of_a_prefix_by_two_sessions(pair: Any) -> None:
    a, _, _ = pair
    assert pyidsql.generate_id(a, "NEW") == "NEW-AAA0001"  # inserts the counter row, uncommitted
    assert _race(pair, "NEW", lambda c: c.commit()) == "NEW-AAA0002"


def test_generate_id_first_use_rolled_back_by_the_first_session(pair: Any) -> None:
    a, _, _ = pair
    assert pyidsql.generate_id(a, "NEW") == "NEW-AAA0001"
    assert _race(pair, "NEW", lambda c: c.rollback()) == "NEW-AAA0001"


def test_generate_id_fast_mode_never_waits(pair: Any) -> None:
    a, b, _ = pair
    pyidsql.configure_prefix(a, "FST", mode="fast")
    a.commit()
    assert pyidsql.generate_id(a, "FST") == "FST-AAA0001"  # a keeps its transaction open
    b.execute("SET lock_timeout = '5s'")
    assert pyidsql.generate_id(b, "FST") == "FST-AAA0002"
    b.commit()
    a.rollback()
    assert pyidsql.generate_id(a, "FST") == "FST-AAA0003"


def test_generate_id_honours_lock_timeout(pair: Any) -> None:
    a, b, _ = pair
    pyidsql.generate_id(a, "CUS")
    a.commit()
    pyidsql.generate_id(a, "CUS")
    b.execute("SET lock_timeout = '50ms'")
    with pytest.raises(pg_errors.LockNotAvailable):
        pyidsql.generate_id(b, "CUS")
    b.rollback()
    a.commit()


def test_generate_id_repeatable_read_gets_serialization_failure(pair: Any) -> None:
    a, b, monitor = pair
    pyidsql.generate_id(a, "CUS")
    a.commit()
    b.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    b.execute("SELECT 1")  # b's snapshot is taken here
    pyidsql.generate_id(a, "CUS")
    with ThreadPoolExecutor(1) as pool:
        second = pool.submit(pyidsql.generate_id, b, "CUS")
        wait_until_blocked(monitor, b, a.info.backend_pid)
        a.commit()
        with pytest.raises(pg_errors.SerializationFailure):
            second.result(timeout=30)
    b.rollback()
    assert pyidsql.generate_id(b, "CUS") == "CUS-AAA0003"
    b.commit()


def _workers(
    connect: Connect, prefix: str, workers: int, calls: int, *, switch_modes: bool = False
) -> tuple[list[str], list[str]]:
    """Run *workers* threads of *calls* generate_id each, 10% rolled back; return (committed IDs, errors)."""
    committed: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(workers + (1 if switch_modes else 0))

    def work(seed: int) -> None:
        rng = random.Random(seed)
        conn = connect()
        start.wait()
        for _ in range(calls):
            try:
                new_id = pyidsql.generate_id(conn, prefix)
            except psycopg.Error as exc:
                conn.rollback()
                with lock:
                    failures.append(exc.sqlstate or "?")
                continue
            if rng.random() < 0.1:
                conn.rollback()
            else:
                conn.commit()
                with lock:
                    committed.append(new_id)

    def switcher() -> None:
        conn = connect()
        start.wait()
        for i in range(40):
            pyidsql.configure_prefix(conn, prefix, mode="fast" if i % 2 == 0 else "gapless")
            conn.commit()
            time.sleep(0.005)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    if switch_modes:
        threads.append(threading.Thread(target=switcher))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return committed, failures


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["gapless", "fast"])
def test_generate_id_six_workers_with_rollbacks(connect: Connect, mode: str) -> None:
    setup = connect()
    pyidsql.configure_prefix(setup, "CON", mode=mode)  # type: ignore[arg-type]
    setup.commit()
    committed, failures = _workers(connect, "CON", workers=6, calls=300)
    assert failures == []
    assert len(committed) == len(set(committed)), "an ID was issued twice"
    assert 6 * 300 * 0.8 < len(committed) < 6 * 300
    ordinals = sorted(pyidsql.parse_id(setup, i).ordinal for i in committed)
    if mode == "gapless":
        assert ordinals == list(range(1, len(committed) + 1)), "committed gapless IDs have a hole"
        assert pyidsql.current_id(setup, "CON") == idref.format_id("CON", len(committed))
    else:
        assert ordinals[-1] <= 6 * 300


@pytest.mark.slow
def test_generate_id_mode_switches_under_load_never_duplicate(connect: Connect) -> None:
    committed, failures = _workers(connect, "SWI", workers=4, calls=250, switch_modes=True)
    assert len(committed) == len(set(committed)), "an ID was issued twice across a mode switch"
    # The only error allowed is the capped sequence refusing a caller that read "fast" just
    # before the switch to gapless (2200H); never a duplicate, never anything else.
    assert set(failures) <= {"2200H"}
