"""Table IDs against the original client-side design they replace (spec/table-ids.md).

The reference is a faithful re-implementation of the original Supabase ``IDManager``: one
in-memory counter per table, initialised as ``max(row_count + 1, max_id + 1, initial_value)``,
an INSERT with the next value, and on a duplicate key a logged warning, a re-sync from the
database, a 0.2 s back-off and another try, ``None`` after 3 tries. Each writer is its own OS
process with its own connection and its own manager, as separate application instances would be.
The subject is ``idsql.insert_with_retry`` from the same number of processes for the same time.
Target (the spec): at least 5× the client-side rows/s at 4 writers, with zero failed inserts.

A third design is the floor of the machine: the same writers running a bare
``INSERT ... RETURNING *`` into a table whose ID is an identity column, no ID logic at all and
no retry. No design that inserts one committed row per round trip from these writers can go
faster. Target (issue 21): ``insert_with_retry`` at least 0.8× of it at 1 and 4 writers; 16
writers is a row of its own, to show how the cost grows.

``next_id`` runs under pgbench against bare ``nextval`` on the same sequence (issue 21: ≥ 0.8×).

Also runnable on its own against any database with idsql installed:
``python -m bench.table_ids --dsn "$DSN" --design client --writers 4 --seconds 10``.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

import pyidsql
from bench.harness import BENCH_DIR, Comparison, Measure, Run, Section, Server, fmt_rate, interleave
from pyidsql.errors import RetriesExhausted
from pyidsql.install import install

TITLE = "Table IDs"
SQL = BENCH_DIR / "sql" / "table_ids"
QUICK_SECONDS = 2
WRITERS = (1, 4, 16)
CLIENT_TARGET = 5.0  # the spec, at 4 writers
FLOOR_TARGET = 0.8  # issue 21, at 1 and 4 writers
NEXT_ID_TARGET = 0.8  # issue 21
DESIGNS = ("client", "idsql", "plain")
LABELS = {
    "client": "client-side IDManager",
    "idsql": "insert_with_retry",
    "plain": "bare INSERT into an identity column",
}
TABLE = "bench_chat_{design}"
PLAIN_INSERT = "INSERT INTO bench_chat_plain (user_id, query, response) VALUES (%s, %s, %s) RETURNING *"
CREATE = """
CREATE TABLE {table} (
    id bigint {id_kind} PRIMARY KEY,
    user_id text NOT NULL,
    query text,
    response text,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""

client_log = logging.getLogger("bench.table_ids.client")
client_log.addHandler(logging.NullHandler())
client_log.propagate = False  # the reference logs every conflict, as the original did; nobody reads it here


@dataclass(frozen=True)
class Options:
    """How long to measure: fixed seconds per run, or (``--quick``) a couple of seconds."""

    seconds: int
    rounds: int
    quick: bool

    @property
    def run_seconds(self) -> float:
        return QUICK_SECONDS if self.quick else self.seconds


# --- the original design, re-implemented ------------------------------------------------------


class ClientSideIDManager:
    """The original client-side ``IDManager``: in-memory counters re-synced on a duplicate key."""

    def __init__(self, conn: psycopg.Connection[Any], initial_value: int = 1, retry_attempts: int = 3) -> None:
        self.conn = conn
        self.initial_value = initial_value
        self.retry_attempts = retry_attempts
        self.counters: dict[str, int] = {}
        self.lock = threading.Lock()

    def _initialize_table(self, table: str) -> None:
        ident = sql.Identifier(table)
        row_count = self.conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]  # type: ignore[index]
        max_id = self.conn.execute(sql.SQL("SELECT max(id) FROM {}").format(ident)).fetchone()[0]  # type: ignore[index]
        self.counters[table] = max(row_count + 1, (max_id or 0) + 1, self.initial_value)

    def initialize(self, tables: tuple[str, ...]) -> None:
        for table in tables:
            self._initialize_table(table)

    def next_id(self, table: str) -> int:
        with self.lock:
            if table not in self.counters:
                self._initialize_table(table)
            value = self.counters[table]
            self.counters[table] = value + 1
            return value

    def insert_with_retry(self, table: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
        for attempt in range(1, self.retry_attempts + 1):
            new_id = self.next_id(table)
            columns = ["id", *data]
            query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING *").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(columns)),
            )
            try:
                cur = self.conn.execute(query, [new_id, *data.values()])
            except pg_errors.UniqueViolation:
                client_log.warning("ID conflict on %s (id %s, attempt %s); re-syncing", table, new_id, attempt)
                with self.lock:
                    self._initialize_table(table)
                time.sleep(0.2)
                continue
            row = cur.fetchone()
            assert cur.description is not None and row is not None
            return dict(zip((c.name for c in cur.description), row, strict=True))
        client_log.error("insert into %s failed after %s attempts", table, self.retry_attempts)
        return None


# --- writers ----------------------------------------------------------------------------------


def _writer(design: str, dsn: str, number: int, seconds: float, start: Any, results: Any) -> None:
    """Insert rows for *seconds* after *start* is set; put (rows, failed, elapsed) on *results*."""
    table = TABLE.format(design=design)
    rows = failed = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        manager = ClientSideIDManager(conn)
        if design == "client":
            manager.initialize((table,))  # each application instance starts by syncing its counters
        start.wait()
        began = time.perf_counter()
        deadline = began + seconds
        while time.perf_counter() < deadline:
            data = {"user_id": f"user{number}", "query": "Hello", "response": "Hi there!"}
            if design == "client":
                ok = manager.insert_with_retry(table, data) is not None
            elif design == "plain":
                cur = conn.execute(PLAIN_INSERT, tuple(data.values()))
                ok = cur.fetchone() is not None
            else:
                try:
                    pyidsql.insert_with_retry(conn, table, data)
                    ok = True
                except RetriesExhausted:
                    ok = False
            rows += ok
            failed += not ok
        results.put((rows, failed, time.perf_counter() - began))


@dataclass(frozen=True)
class Result:
    """One run: rows per second over all writers, and the inserts that gave up."""

    per_second: float
    rows: int
    failed: int


def run_writers(dsn: str, design: str, writers: int, seconds: float) -> Result:
    """Start *writers* processes of *design* on a fresh table; return what they inserted."""
    if design not in DESIGNS:
        raise ValueError(f"design is one of {DESIGNS}")
    table = TABLE.format(design=design)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        id_kind = sql.SQL("GENERATED BY DEFAULT AS IDENTITY" if design == "plain" else "")
        conn.execute(sql.SQL(CREATE).format(table=sql.Identifier(table), id_kind=id_kind))  # type: ignore[arg-type]
        conn.execute(sql.SQL("VACUUM ANALYZE idsql.table_counter"))
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(design, dsn, n, seconds, start, results)) for n in range(writers)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let every writer connect (and, client-side, initialise) before the clock starts
    start.set()
    outcomes = [results.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    rows = sum(o[0] for o in outcomes)
    failed = sum(o[1] for o in outcomes)
    elapsed = statistics.mean(o[2] for o in outcomes)
    with psycopg.connect(dsn) as conn:
        stored = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]  # type: ignore[index]
    if stored != rows:
        raise RuntimeError(f"{design}: the writers reported {rows} rows, the table holds {stored}")
    return Result(rows / elapsed, rows, failed)


# --- the section ------------------------------------------------------------------------------


def run(server: Server, opts: Options, log: Callable[[str], None] = print) -> Section:
    """Measure insert_with_retry against the client-side design and the floor at 1, 4 and 16 writers, and next_id."""
    with server.connect() as conn:
        install(conn)
    dsn = server.conninfo()
    seconds = opts.run_seconds
    section = Section(
        title=TITLE,
        intro=(
            "Rows inserted per second by `idsql.insert_with_retry` against a faithful re-implementation of the "
            "original client-side `IDManager` (in-memory counter per table, count/max initialisation, insert, "
            "0.2 s back-off and re-sync on a duplicate key, `None` after 3 tries), per spec/table-ids.md "
            f"(Performance). Each writer is an OS process with its own connection; each run lasts {seconds:g} s "
            "on a fresh table; every insert is its own committed transaction."
        ),
        setup=(
            f'Database setup: `pyidsql install --dsn "$DSN"` (idsql {pyidsql.__version__}); '
            "each run creates its own table."
        ),
    )
    failures: list[str] = []
    for writers in WRITERS:
        samples: dict[str, list[Result]] = {d: [] for d in DESIGNS}
        for round_no in range(1, opts.rounds + 1):
            for design in DESIGNS:
                result = run_writers(dsn, design, writers, seconds)
                samples[design].append(result)
                log(
                    f"  round {round_no}/{opts.rounds}  {design:<6} {writers} writer(s)"
                    f" {fmt_rate(result.per_second):>10} rows/s  failed {result.failed}"
                )
        measures = {
            d: Measure(
                label=f"{LABELS[d]}, {writers}w",
                samples=tuple(r.per_second for r in samples[d]),
                unit="rows/s",
                command=f"python -m bench.table_ids --design {d} --writers {writers} --seconds {seconds:g}",
                detail="failed inserts per round: " + ", ".join(str(r.failed) for r in samples[d]),
            )
            for d in DESIGNS
        }
        failed = {d: sum(r.failed for r in samples[d]) for d in DESIGNS}
        plural = "s" if writers > 1 else ""
        name = f"`insert_with_retry`, {writers} writer{plural}"
        if failed["idsql"]:
            name += f" ({failed['idsql']} failed inserts)"
        failures.append(f"{writers} writer(s): idsql {failed['idsql']}, client-side {failed['client']}")
        floor = FLOOR_TARGET if writers <= 4 else 0.0
        section.comparisons += [
            Comparison(name, measures["idsql"], measures["client"], CLIENT_TARGET if writers == 4 else 0.0),
            Comparison(
                f"ceiling: bare INSERT vs client-side, {writers} writer{plural} (for reference, no target)",
                measures["plain"],
                measures["client"],
                0.0,
            ),
            Comparison(
                f"floor: `insert_with_retry` vs bare INSERT, {writers} writer{plural}"
                + ("" if floor else " (how the cost grows, no target)"),
                measures["idsql"],
                measures["plain"],
                floor,
            ),
        ]
    section.comparisons += _next_id(server, opts, log)
    section.notes += [
        "Failed inserts (`None` from the client-side design, ID101 from idsql), summed over the rounds: "
        + "; ".join(failures)
        + ". The spec's target is zero for idsql.",
        "The spec sets no target against the client-side design at 1 writer, nor at 16: at 1 writer it never "
        "conflicts and pays one INSERT per row, while idsql also calls nextval() on the table's sequence and "
        "checks max(id).",
        "The ceiling rows run the same writers with a bare `INSERT ... RETURNING *` into an identity column: "
        "no ID logic, nothing to retry, one committed row per round trip, which is what every design here "
        "does. Its ratio to the client-side design is the most any design can reach on this machine; where "
        "it is below the spec's 5×, the target cannot be met here by any implementation, only approached. "
        "The floor rows state the same thing from idsql's side: `insert_with_retry` over that bare INSERT "
        "(issue 21: at least 0.8× at 1 and 4 writers).",
        "`next_id` rows: pgbench, one `SELECT` a transaction, against a bare `nextval()` on the very sequence "
        "idsql registered for the table (passed as its OID, `-D seq=`, so the reference parses no name). "
        "next_id also reads max(id) from the table's 1,000-row primary key and goes through a PL/pgSQL call.",
        "At 4 writers every client-side process starts from the same in-memory counter, so they collide, "
        "sleep 0.2 s and re-sync with count(*) and max(id); while the others sleep one writer keeps "
        "inserting, so the design keeps roughly one writer's rate, minus its failures. idsql's writers never "
        "collide and never wait for each other: each ID comes from the table's sequence (a rollback leaves a "
        "hole), so their commits overlap and the rate grows with the writers until the CPUs or the WAL "
        "flushes are saturated.",
    ]
    return section


def _next_id(server: Server, opts: Options, log: Callable[[str], None]) -> list[Comparison]:
    """``next_id`` against bare ``nextval`` on the same sequence, at 1 and 8 pgbench clients."""
    with server.connect() as conn:
        conn.execute((SQL / "setup.sql").read_text().encode())
        seq = conn.execute("SELECT seq::oid FROM idsql.table_counter WHERE table_name = 'bench_next'::regclass")
        oid = str(seq.fetchone()[0])  # type: ignore[index]
    length: dict[str, int] = {"transactions": 50} if opts.quick else {"seconds": opts.seconds}
    comparisons = []
    for clients in (1, 8):
        plural = "s" if clients > 1 else ""
        subject = Run(f"next_id, {clients}c", SQL / "next_id.sql", clients=clients, **length)
        reference = Run(
            f"bare nextval on its sequence, {clients}c",
            SQL / "nextval.sql",
            clients=clients,
            variables=(("seq", oid),),
            **length,
        )
        log(f"next_id vs bare nextval, {clients} client{plural}")
        a, b = interleave(server, [subject, reference], opts.rounds, log=log)
        comparisons.append(
            Comparison(
                f"`next_id('bench_next')` vs bare `nextval`, {clients} client{plural}",
                Measure.of(subject, a, "tps"),
                Measure.of(reference, b, "tps"),
                NEXT_ID_TARGET,
            )
        )
    return comparisons


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.table_ids", description=__doc__.splitlines()[0])
    p.add_argument("--dsn", required=True, help="a database with idsql installed")
    p.add_argument("--design", choices=DESIGNS, required=True)
    p.add_argument("--writers", type=int, default=1)
    p.add_argument("--seconds", type=float, default=10)
    args = p.parse_args(argv)
    result = run_writers(args.dsn, args.design, args.writers, args.seconds)
    print(
        f"{args.design}, {args.writers} writer(s): {result.per_second:,.0f} rows/s, "
        f"{result.rows} rows, {result.failed} failed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
