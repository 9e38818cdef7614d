"""Sequence repair against the two ways it is usually done (spec/sequences.md, Performance).

Databases of 1,000 and 10,000 tables whose sequences have fallen behind their rows are repaired
several ways, interleaved round by round, with the sequences set back before every run:

- ``CALL idsql.fix_all_sequences()``: one call, a commit per sequence;
- ``idsql.fix_all_sequences_report()``: one call in one transaction, where it fits the lock table
  (it holds a lock per table, index and sequence until commit: about 2,000 tables with the default
  ``max_locks_per_transaction`` of 64 and 100 connections);
- the original approach: a Python client loop issuing one ``max()`` and one ``setval`` per table;
- the SQL Django's ``sqlsequencereset`` emits (one ``setval(pg_get_serial_sequence(...),
  coalesce(max(...), 1), max(...) IS NOT null)`` per table), run through ``psql -f``, each
  statement in its own transaction: Django wraps it in BEGIN/COMMIT, which runs out of lock
  memory at 10,000 tables on a default server, as the function would.

Targets: faster than both, 10,000 tables in under 10 s, and linear: tables/s at 10,000 at least
0.8x of tables/s at 1,000.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import sql

from bench.harness import Comparison, Measure, Section, Server
from pyidsql.install import install

TITLE = "Sequence repair"
SIZES = (1_000, 10_000)
QUICK_SIZES = (100, 1_000)
ROWS = 20  # table i holds i % ROWS rows with explicit IDs, so some tables are empty
TARGET_SECONDS_10K = 10.0
ONE_TRANSACTION_MAX = 2_000  # tables fix_all_sequences_report can hold locks on, default settings

# Tables are created and sequences set back in batches, each committed: one transaction touching
# 10,000 tables would need more locks than the default lock table holds.
SETUP = """
DO $$
BEGIN
    FOR i IN 1 .. %(n)s LOOP
        EXECUTE format('CREATE TABLE %%I (id serial PRIMARY KEY, note text)', 't' || lpad(i::text, 5, '0'));
        EXECUTE format('INSERT INTO %%I (id) SELECT generate_series(1, %%s)',
                       't' || lpad(i::text, 5, '0'), i %% %(rows)s);
        IF i %% 500 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;
"""

DRIFT = """
DO $$
DECLARE
    v_seq regclass;
    v_done integer := 0;
BEGIN
    FOR v_seq IN SELECT c.oid::regclass FROM pg_class AS c
                  WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace LOOP
        PERFORM setval(v_seq, 1, false);
        v_done := v_done + 1;
        IF v_done % 500 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$$;
"""

# What the original script did: list the serial columns, then per table one max() and one setval.
ORIGINAL_LIST = """
SELECT table_schema, table_name, column_name,
       pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name)
  FROM information_schema.columns
 WHERE column_default LIKE 'nextval(%' AND table_schema = 'public'
"""


@dataclass(frozen=True)
class Options:
    """Rounds to interleave; ``--quick`` uses smaller databases."""

    seconds: int
    rounds: int
    quick: bool


def _database(n: int) -> str:
    return f"bench_sequences_{n}"


def prepare(server: Server, n: int, log: Callable[[str], None]) -> None:
    """Create a database of *n* tables with serial IDs and rows, and install idsql in it."""
    began = time.perf_counter()
    with server.connect("postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(_database(n))))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_database(n))))
    with server.connect(_database(n)) as conn:
        install(conn)
        conn.execute((SETUP % {"n": n, "rows": ROWS}).encode())
        conn.execute("VACUUM ANALYZE")
    log(f"  {n:,} tables created in {time.perf_counter() - began:.1f} s")


def drift(server: Server, n: int) -> None:
    """Set every sequence back to 1, as a restore without SEQUENCE SET leaves them."""
    with server.connect(_database(n)) as conn:
        conn.execute(DRIFT.encode())


def _behind(server: Server, n: int) -> int:
    """Count the sequences still behind, one sequence per transaction (any number of tables)."""
    from pyidsql import sequence_repair

    with server.connect(_database(n)) as conn:
        _, checks = sequence_repair.fix_sequences_one_by_one(conn, None, 0, False, True)
        return sum(c.status == "behind" for c in checks)


def run_procedure(server: Server, n: int) -> None:
    with server.connect(_database(n)) as conn:
        conn.execute("CALL idsql.fix_all_sequences()")


def run_report(server: Server, n: int) -> None:
    with server.connect(_database(n)) as conn, conn.transaction():
        conn.execute("SELECT count(*) FROM idsql.fix_all_sequences_report()")


def run_client_loop(server: Server, n: int) -> None:
    with server.connect(_database(n)) as conn:
        for schema, table, column, seq in conn.execute(ORIGINAL_LIST).fetchall():
            query = sql.SQL("SELECT max({}) FROM {}.{}").format(
                sql.Identifier(column), sql.Identifier(schema), sql.Identifier(table)
            )
            row = conn.execute(query).fetchone()
            top = row[0] if row else None
            if top is not None:
                conn.execute("SELECT setval(%s, %s, false)", (seq, top + 1))


def django_script(n: int) -> str:
    """Return what ``manage.py sqlsequencereset`` prints for *n* such tables, without its BEGIN/COMMIT."""
    lines = []
    for i in range(1, n + 1):
        t = f"t{i:05}"
        lines.append(
            f"""SELECT setval(pg_get_serial_sequence('"{t}"','id'), coalesce(max("id"), 1), """
            f"""max("id") IS NOT null) FROM "{t}";"""
        )
    return "\n".join(lines) + "\n"


def run_django(server: Server, n: int, script: Path) -> None:
    subprocess.run(
        [
            str(server.bindir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-o",
            "/dev/null",
            "-d",
            server.conninfo(_database(n)),
            "-f",
            str(script),
        ],
        check=True,
        capture_output=True,
    )


def _measure(label: str, seconds: list[float], n: int, command: str) -> Measure:
    detail = "s per run: " + ", ".join(f"{s:.2f}" for s in seconds)
    return Measure(label, tuple(n / s for s in seconds), "tables/s", command, detail)


def run(server: Server, opts: Options, log: Callable[[str], None] = print) -> Section:
    """Time the three repairs on each database size and return the section for BENCHMARKS.md."""
    sizes = QUICK_SIZES if opts.quick else SIZES
    section = Section(
        title=TITLE,
        intro=(
            "Repairing every sequence of a database whose sequences have fallen behind their rows, per "
            "spec/sequences.md (Performance). tables/s = tables repaired per second of wall time, "
            "client included; each run starts from every sequence set back to 1."
        ),
        setup=(
            "Each database: `pyidsql install`, then tables `t00001` … with `id serial PRIMARY KEY` and "
            f"`i % {ROWS}` rows (so one in {ROWS} is empty), sequences set back with `setval(seq, 1, false)` "
            "before every run (see bench/sequences.py)."
        ),
    )
    measured: dict[int, Measure] = {}
    with tempfile.TemporaryDirectory(prefix="pyidsql-bench-seq-") as tmp:
        for n in sizes:
            prepare(server, n, log)
            script = Path(tmp) / f"django_{n}.sql"
            script.write_text(django_script(n))
            runs: dict[str, Callable[[], Any]] = {"procedure": lambda n=n: run_procedure(server, n)}
            if n <= ONE_TRANSACTION_MAX:
                runs["report"] = lambda n=n: run_report(server, n)
            runs["loop"] = lambda n=n: run_client_loop(server, n)
            runs["django"] = lambda n=n, script=script: run_django(server, n, script)
            times: dict[str, list[float]] = {k: [] for k in runs}
            for r in range(opts.rounds):
                for name, func in runs.items():
                    drift(server, n)
                    began = time.perf_counter()
                    func()
                    took = time.perf_counter() - began
                    if r == 0:
                        assert _behind(server, n) == 0, f"{name} left sequences behind"
                    times[name].append(took)
                    log(f"  {n:,} tables, round {r + 1}: {name} {took:.2f} s")

            def measure(name: str, label: str, command: str, n: int = n, spent: dict[str, Any] = times) -> Measure:
                return _measure(label, spent[name], n, command)

            ours = measure(
                "procedure",
                f"`CALL idsql.fix_all_sequences()`, {n:,} tables",
                'psql "$DSN" -c "CALL idsql.fix_all_sequences()"',
            )
            measured[n] = ours
            loop = measure(
                "loop",
                f"client loop: max() + setval per table, {n:,} tables",
                "python: bench.sequences.run_client_loop (psycopg, autocommit)",
            )
            django = measure(
                "django",
                f"Django sqlsequencereset SQL via psql, {n:,} tables",
                'psql "$DSN" -f django.sql (bench.sequences.django_script)',
            )
            section.comparisons += [
                Comparison(f"{n:,} tables: `fix_all_sequences` vs the client loop", ours, loop, 1.0),
                Comparison(f"{n:,} tables: `fix_all_sequences` vs Django's SQL via psql", ours, django, 1.0),
            ]
            if "report" in times:
                report = measure(
                    "report",
                    f"`fix_all_sequences_report()` in one transaction, {n:,} tables",
                    'psql "$DSN" -c "SELECT count(*) FROM idsql.fix_all_sequences_report()"',
                )
                name = f"{n:,} tables: `fix_all_sequences_report` vs Django's SQL via psql"
                section.comparisons.append(Comparison(name, report, django, 1.0))
            if n == 10_000:
                goal = Measure(
                    "10,000 tables in 10 s", (n / TARGET_SECONDS_10K,) * opts.rounds, "tables/s", "spec target"
                )
                section.comparisons.append(Comparison("10,000 tables in under 10 s", ours, goal, 1.0))
            with server.connect("postgres") as conn:
                conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(_database(n))))
    small, large = sizes
    section.comparisons.append(
        Comparison(
            f"linear: tables/s at {large:,} vs at {small:,} tables",
            measured[large],
            measured[small],
            0.8,
            note=(
                f"Scaling {small:,} → {large:,} tables: {large / small:g}x the tables took "
                f"{(large / measured[large].median) / (small / measured[small].median):.1f}x the time."
            ),
        )
    )
    section.notes += [
        "The client loop and the Django SQL use `pg_get_serial_sequence` and see only serial columns "
        "in public; idsql also finds identity columns, DEFAULTs on sequences they do not own and "
        "shared sequences, and locks each table against writers while it reads the max.",
        "`fix_all_sequences_report` runs in one transaction and so holds a lock per table, index and "
        f"sequence until it commits: it is measured up to {ONE_TRANSACTION_MAX:,} tables, where the "
        "default lock table still holds them. The procedure, the client loop and the Django SQL commit "
        "per table (each fixing commit is a durable WAL flush).",
    ]
    return section
