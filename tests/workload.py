"""A mixed workload through every capability, a ledger of what clients saw commit, and the invariants.

Used by the load test (16 clients, minutes, no faults) and the crash tests (8 clients, then the
server is stopped with ``-m immediate`` or backends are terminated). Each client runs one
capability per transaction and writes into the ledger only once ``commit()`` returned; a commit
that failed without an answer (the server went away) is *in doubt*: it may or may not have
committed, and the checks accept both.

After the run, :func:`check` compares the database with the ledger:

- prefixed IDs, gapless (``GAP``): every acknowledged ID is stored; the stored ordinals are exactly
  1..N and the counter says N (no hole, no ID issued twice, the counter never behind its rows);
- prefixed IDs, fast (``FST``) and table IDs (``ticket``): every acknowledged ID is stored, and the
  next ID issued now is past every stored one (a counter never went backwards);
- state versions: each root's version is 1 + the committed transactions that touched it, and its
  history holds versions 1..that, the last one equal to the row;
- ID negotiation: every acknowledged replacement is in the mapping; no mapping is half-written (the
  row has the permanent ID, no row or reference keeps the temporary one, a change-log row exists);
  a row that still has its temporary ID has no mapping;
- sequence repair: the serial column's sequence is past its data after a final fix.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

import pyidsql

SCHEMA = """
CREATE TABLE gap_doc (id text PRIMARY KEY, client int NOT NULL);
CREATE TABLE fast_doc (id text PRIMARY KEY, client int NOT NULL);
SELECT idsql.configure_prefix('FST', mode => 'fast');
CREATE TABLE ticket (id bigint PRIMARY KEY, body text NOT NULL, client int NOT NULL);
SELECT idsql.initialize_table('ticket');
CREATE TABLE legacy (id serial PRIMARY KEY, note text);
CREATE TABLE doc_root (id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1, title text);
CREATE TABLE doc_part (id text PRIMARY KEY, root_id text NOT NULL REFERENCES doc_root,
                       state_version bigint NOT NULL DEFAULT 1, body text);
CREATE INDEX ON doc_part (root_id);
SELECT idsql.enable_state_version('doc_root', history => true);
SELECT idsql.enable_state_version('doc_part', parent => 'doc_root', history => true);
CREATE TABLE project (id text PRIMARY KEY, name text NOT NULL);
CREATE TABLE task (id text PRIMARY KEY, project_id text NOT NULL REFERENCES project, name text NOT NULL);
CREATE INDEX ON task (project_id);
SELECT idsql.set_id_strategy('project', 'server', 'prefix:PRJ');
"""

ROOTS = 6
PARTS_PER_ROOT = 4

# Errors a client may meet when the server goes away or its backend is terminated.
FAULT_STATES = {"57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"}
# Errors the workload provokes on purpose: explicit IDs written past a serial column's sequence
# collide with its next values until a fix (the problem sequence repair exists for), and a fix
# gives up on its table after lock_timeout.
EXPECTED = {("sequences", "23505"), ("sequences", "55P03")}


def setup(dsn: str) -> None:
    """Create the workload's tables and their first rows."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(SCHEMA)
        with c.transaction():
            for r in range(ROOTS):
                c.execute("INSERT INTO doc_root (id, title) VALUES (%s, 'r')", (f"R{r}",))
                for p in range(PARTS_PER_ROOT):
                    c.execute("INSERT INTO doc_part (id, root_id, body) VALUES (%s, %s, 'p')", (f"R{r}P{p}", f"R{r}"))


def sqlstate(exc: BaseException) -> str:
    """The SQLSTATE of an error, looking through pyidsql's wrapper classes; '?' for none."""
    for e in (exc, exc.__cause__):
        code = getattr(e, "sqlstate", None)
        if code:
            return str(code)
    return "08000" if isinstance(exc, psycopg.OperationalError) else "?"


@dataclass
class Ledger:
    """What clients saw committed (``acked``) and what may have committed (``in_doubt``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: dict[str, list[Any]] = field(default_factory=dict)
    in_doubt: dict[str, list[Any]] = field(default_factory=dict)
    ops: Counter[str] = field(default_factory=Counter)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)

    def record(self, kind: str, items: list[Any], *, doubt: bool = False) -> None:
        with self.lock:
            (self.in_doubt if doubt else self.acked).setdefault(kind, []).extend(items)

    def all(self, kind: str) -> list[Any]:
        return self.acked.get(kind, []) + self.in_doubt.get(kind, [])


Op = Callable[[psycopg.Connection[Any], random.Random, int], list[tuple[str, Any]]]


def op_gapless(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    ids = [pyidsql.generate_id(conn, "GAP")] if rng.random() < 0.7 else pyidsql.bulk_generate_ids(conn, "GAP", 3)
    for i in ids:
        conn.execute("INSERT INTO gap_doc VALUES (%s, %s)", (i, client))
    return [("gap", i) for i in ids]


def op_fast(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    ids = [pyidsql.generate_id(conn, "FST")] if rng.random() < 0.7 else pyidsql.bulk_generate_ids(conn, "FST", 3)
    for i in ids:
        conn.execute("INSERT INTO fast_doc VALUES (%s, %s)", (i, client))
    return [("fast", i) for i in ids]


def op_ticket(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    if rng.random() < 0.6:
        row = pyidsql.insert_with_retry(conn, "ticket", {"body": "b", "client": client})
        return [("ticket", row["id"])]
    new = pyidsql.next_id(conn, "ticket")
    conn.execute("INSERT INTO ticket VALUES (%s, 'n', %s)", (new, client))
    return [("ticket", new)]


def op_versions(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    """Change one to three parts, possibly under different roots, in one transaction."""
    parts = rng.sample([f"R{r}P{p}" for r in range(ROOTS) for p in range(PARTS_PER_ROOT)], rng.randint(1, 3))
    conn.execute("UPDATE doc_part SET body = %s WHERE id = ANY(%s)", (f"c{client}-{rng.random():.6f}", sorted(parts)))
    if rng.random() < 0.05:
        pyidsql.children_as_of(conn, "doc_part", {"id": parts[0][:2]}, 1)
        pyidsql.changes_between(conn, "doc_root", {"id": parts[0][:2]}, 1, 2)
    return [("root", r) for r in sorted({p[:2] for p in parts})]


def op_offline(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    """An offline client's parent and child arrive with temporary IDs, and a sync queue item."""
    temp = pyidsql.new_temp_id(conn, "project")
    conn.execute("INSERT INTO project VALUES (%s, 'offline')", (temp,))
    conn.execute("INSERT INTO task VALUES (%s, %s, 't')", (f"{temp}-task", temp))
    pyidsql.enqueue_sync(conn, "project", temp, "create", {"id": temp}, temporary_client_id=temp)
    return [("temp", temp)]


def op_negotiate(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    """Replace up to two temporary IDs (claimed from the sync queue) by server IDs."""
    items = pyidsql.claim_sync_batch(conn, rng.randint(1, 2))
    done = []
    for item in items:
        if item.temporary_client_id is None or item.temporary_client_id != item.model_id:
            pyidsql.complete_sync(conn, item.id)
            continue
        permanent = pyidsql.assign_server_id(conn, "project", item.model_id)
        pyidsql.complete_sync(conn, item.id)
        done.append(("mapped", (item.model_id, permanent)))
    return done


def op_sequences(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    """Write past the serial column's sequence now and then, and repair it."""
    if rng.random() < 0.5:
        conn.execute("INSERT INTO legacy (id, note) SELECT coalesce(max(id), 0) + 5, 'explicit' FROM legacy")
    else:
        conn.execute("SET LOCAL lock_timeout = '2s'")
        pyidsql.fix_sequence(conn, "legacy", "id")
        conn.execute("INSERT INTO legacy (note) VALUES ('default')")
    return []


def op_reads(conn: psycopg.Connection[Any], rng: random.Random, client: int) -> list[tuple[str, Any]]:
    pyidsql.current_id(conn, "GAP")
    pyidsql.prefix_stats(conn)
    pyidsql.row_history(conn, "doc_root", {"id": f"R{rng.randrange(ROOTS)}"})
    pyidsql.sequence_report(conn, ["public"])
    return []


OPS: dict[str, Op] = {
    "gapless": op_gapless,
    "fast": op_fast,
    "ticket": op_ticket,
    "versions": op_versions,
    "offline": op_offline,
    "negotiate": op_negotiate,
    "sequences": op_sequences,
    "reads": op_reads,
}
WEIGHTS = {
    "gapless": 3, "fast": 3, "ticket": 3, "versions": 4, "offline": 2, "negotiate": 2, "sequences": 1, "reads": 1,
}  # fmt: skip


def _settle(ledger: Ledger, results: list[tuple[str, Any]], *, doubt: bool) -> None:
    by_kind: dict[str, list[Any]] = {}
    for kind, value in results:
        by_kind.setdefault(kind, []).append(value)
    for kind, values in by_kind.items():
        ledger.record(kind, values, doubt=doubt)


def client_loop(dsn: str, client: int, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    """Run random operations until *stop*; reconnect after faults while not stopped."""
    rng = random.Random(seed)
    kinds = list(WEIGHTS)
    weights = [WEIGHTS[k] for k in kinds]
    conn: psycopg.Connection[Any] | None = None
    while not stop.is_set():
        if conn is None or conn.closed or conn.broken:
            try:
                conn = psycopg.connect(dsn, connect_timeout=5)
            except psycopg.Error:
                time.sleep(0.05)
                continue
        kind = rng.choices(kinds, weights)[0]
        try:
            results = OPS[kind](conn, rng, client)
        except Exception as exc:
            code = sqlstate(exc)
            with ledger.lock:
                ledger.errors[kind, code] += 1
            if not conn.broken:
                with contextlib.suppress(psycopg.Error):
                    conn.rollback()
            if code not in FAULT_STATES and not isinstance(exc, psycopg.Error | pyidsql.IdsqlError):
                raise
            continue
        try:
            conn.commit()
        except Exception as exc:  # no answer: the transaction may or may not have committed
            with ledger.lock:
                ledger.errors[f"{kind} commit", sqlstate(exc)] += 1
            _settle(ledger, results, doubt=True)
            continue
        _settle(ledger, results, doubt=False)
        with ledger.lock:
            ledger.ops[kind] += 1
    if conn is not None:
        conn.close()


def run(dsn: str, clients: int, ledger: Ledger, stop: threading.Event, seed: int = 0) -> list[threading.Thread]:
    """Start *clients* threads running :func:`client_loop` until *stop* is set; return them."""
    threads = [
        threading.Thread(target=client_loop, args=(dsn, i, ledger, stop, seed * 1000 + i), daemon=True)
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    return threads


def terminator(dsn: str, stop: threading.Event, every: float, seed: int, ledger: Ledger) -> None:
    """Terminate a random client backend of this database every *every* seconds, mid-call."""
    rng = random.Random(seed)
    while not stop.wait(every):
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as c:
                pids = [r[0] for r in c.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend' AND state = 'active'"
                ).fetchall()]  # fmt: skip
                if pids:
                    c.execute("SELECT pg_terminate_backend(%s)", (rng.choice(pids),))
                    with ledger.lock:
                        ledger.ops["terminated backends"] += 1
        except psycopg.Error:
            continue


def _ordinal(conn: psycopg.Connection[Any], ids: list[str]) -> list[int]:
    rows = conn.execute("SELECT (idsql.parse_id(i)).ordinal FROM unnest(%s::text[]) AS i", (ids,)).fetchall()
    return sorted(r[0] for r in rows)


def check(dsn: str, ledger: Ledger) -> dict[str, Any]:
    """Assert every invariant of the module docstring; return counts for the report."""
    facts: dict[str, Any] = {}
    with psycopg.connect(dsn, autocommit=True) as c:
        # Prefixed IDs, gapless: 1..N, counter N, nothing acknowledged lost.
        gap = [r[0] for r in c.execute("SELECT id FROM gap_doc").fetchall()]
        missing = set(ledger.acked.get("gap", [])) - set(gap)
        assert not missing, f"acknowledged gapless IDs lost: {sorted(missing)[:5]}"
        assert set(gap) <= set(ledger.all("gap")), "gapless rows nobody was given"
        ordinals = _ordinal(c, gap)
        assert ordinals == list(range(1, len(ordinals) + 1)), "gapless IDs have holes or repeats"
        current = pyidsql.current_id(c, "GAP")
        assert (_ordinal(c, [current])[0] if current else 0) == len(ordinals), "the gapless counter is not at N"
        facts["gapless IDs"] = len(gap)
        # Fast prefixed IDs and table IDs: acknowledged ones stored, the next one past all of them.
        fast = [r[0] for r in c.execute("SELECT id FROM fast_doc").fetchall()]
        assert set(ledger.acked.get("fast", [])) <= set(fast), "acknowledged fast IDs lost"
        with c.transaction(force_rollback=True):
            nxt = _ordinal(c, [pyidsql.generate_id(c, "FST")])[0]
        assert not fast or nxt > max(_ordinal(c, fast)), "the fast counter went backwards"
        facts["fast IDs"] = len(fast)
        tickets = [r[0] for r in c.execute("SELECT id FROM ticket").fetchall()]
        assert set(ledger.acked.get("ticket", [])) <= set(tickets), "acknowledged table IDs lost"
        with c.transaction(force_rollback=True):
            next_ticket = pyidsql.next_id(c, "ticket")
        assert not tickets or next_ticket > max(tickets), "the table counter went backwards"
        facts["table IDs"] = len(tickets)
        # State versions: version = 1 + committed transactions; history 1..version, last = row.
        acked_roots = Counter(ledger.acked.get("root", []))
        doubt_roots = Counter(ledger.in_doubt.get("root", []))
        for root, version in c.execute("SELECT id, state_version FROM doc_root ORDER BY id").fetchall():
            low, high = acked_roots[root], acked_roots[root] + doubt_roots[root]
            assert low <= version - 1 <= high, f"{root}: version {version}, committed transactions {low}..{high}"
            history = c.execute(
                "SELECT array_agg(state_version ORDER BY state_version) FROM idsql.row_history('doc_root', %s)",
                (Jsonb({"id": root}),),
            ).fetchone()
            assert history is not None and history[0] == list(range(1, version + 1)), f"{root}: history {history}"
            last = c.execute(
                "SELECT h.row_data = to_jsonb(r) FROM doc_root r, idsql.row_history('doc_root', %s) h"
                " WHERE r.id = %s AND h.state_version = r.state_version",
                (Jsonb({"id": root}), root),
            ).fetchone()
            assert last == (True,), f"{root}: the last history row differs from the row"
        facts["state-version transactions"] = sum(acked_roots.values())
        # ID negotiation: no half-written mapping, no temporary ID left where a mapping exists.
        mapped = dict(ledger.acked.get("mapped", []))
        stored = dict(c.execute("SELECT temp_id, permanent_id FROM idsql.id_mapping WHERE tbl = 'project'::regclass"))
        assert {t: stored.get(t) for t in mapped} == mapped, "acknowledged replacements missing from the mapping"
        half = c.execute(
            """
            SELECT m.temp_id FROM idsql.id_mapping m
             WHERE m.tbl = 'project'::regclass
               AND (NOT EXISTS (SELECT FROM project p WHERE p.id = m.permanent_id)
                    OR EXISTS (SELECT FROM project p WHERE p.id = m.temp_id)
                    OR EXISTS (SELECT FROM task t WHERE t.project_id = m.temp_id)
                    OR NOT EXISTS (SELECT FROM task t WHERE t.project_id = m.permanent_id)
                    OR NOT EXISTS (SELECT FROM idsql.id_change_log l WHERE l.id = m.log_id)
                    OR EXISTS (SELECT FROM idsql.sync_queue q WHERE q.temporary_client_id = m.temp_id
                                  AND q.model_id IS DISTINCT FROM m.permanent_id))
            """
        ).fetchall()
        assert half == [], f"half-written mappings: {half[:5]}"
        facts["negotiated IDs"] = len(stored)
        leftover = c.execute(
            "SELECT count(*) FROM project p WHERE idsql.is_temp_id('project', p.id)"
            " AND idsql.resolve_id('project', p.id) <> p.id"
        ).fetchone()
        assert leftover == (0,), "a row keeps a temporary ID that has a mapping"
        offline = set(ledger.acked.get("temp", []))
        present = {r[0] for r in c.execute("SELECT id FROM project").fetchall()}
        lost = [t for t in offline if t not in present and t not in stored]
        assert lost == [], f"acknowledged offline rows lost: {lost[:5]}"
        # Sequence repair: after a fix, the sequence is past the data.
        pyidsql.fix_sequence(c, "legacy", "id")
        row = c.execute("SELECT nextval('legacy_id_seq') > coalesce(max(id), 0) FROM legacy").fetchone()
        assert row == (True,), "the serial sequence is behind its data after a fix"
    return facts
