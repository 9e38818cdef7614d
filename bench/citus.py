"""Prefixed IDs on a Citus cluster: throughput of both modes on the coordinator (docs/citus.md).

The section starts its own cluster of the system PostgreSQL 15 with Citus (a coordinator and two
workers on this machine, whatever ``--server`` says) and installs idsql on the coordinator, where
its counters live. The workers refuse idsql's calls (ID903), so every row is measured through the
coordinator. The spec sets no target for a cluster: the rows show what a counter on the
coordinator costs beside the bare sequence Citus users would otherwise put in the DEFAULT.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from bench import harness, prefixed_ids
from bench.harness import BENCH_DIR, Comparison, Measure, Section, Server, interleave
from pyidsql.install import install
from pyidsql.tooling.pgserver import CITUS_DBNAME, Cluster, citus_cluster

SQL = BENCH_DIR / "sql" / "citus"
TITLE = "Citus"
PG15 = harness.LOCAL_BINDIR  # Citus is installed into the system PostgreSQL 15
CLIENTS = 8


class Options(harness.Options):
    """How long to measure (see :class:`bench.harness.Options`), with this capability's scripts."""

    sql_dir = SQL


def _coordinator(cluster: Cluster) -> Server:
    node = cluster.coordinator
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        citus = str(conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'citus'").fetchone()[0])  # type: ignore[index]
    return Server(
        kind=f"Citus {citus} coordinator", host=node.host, port=node.port, bindir=PG15, version=version,
        user=node.user, database=CITUS_DBNAME,
    )  # fmt: skip


def run(server: Server, opts: Options, log: Callable[[str], None] = print) -> Section:
    """Measure prefixed IDs through a Citus coordinator and return the section for BENCHMARKS.md."""
    if not (PG15.parent / "lib" / "citus.so").is_file():
        raise harness.BenchError("Citus is not installed into PostgreSQL 15: run make engine-deps (as root)")
    section = Section(
        title=TITLE,
        intro=(
            f"A coordinator and two workers on this machine (PostgreSQL 15 with Citus), {CLIENTS} clients "
            "through the coordinator, where idsql's counters live; the workers refuse idsql's calls (ID903). "
            "tps = transactions per second of pgbench, one committed statement each. No target: the spec "
            "asks for the numbers."
        ),
        setup=(
            'On the coordinator: `pyidsql install --dsn "$DSN"`, `psql "$DSN" -f bench/sql/prefixed_ids/setup.sql` '
            'and `psql "$DSN" -f bench/sql/citus/setup.sql`.'
        ),
    )
    with citus_cluster(PG15, settings=harness.SETTINGS) as cluster:  # durable commits, as elsewhere
        coordinator = _coordinator(cluster)
        log(f"cluster: {coordinator.kind} at {coordinator.host}:{coordinator.port}, {len(cluster.workers)} workers")
        with coordinator.connect() as conn:
            install(conn)
            conn.execute((prefixed_ids.SQL / "setup.sql").read_text().encode())
            conn.execute((SQL / "setup.sql").read_text().encode())
        calls = prefixed_ids.Options(seconds=opts.seconds, rounds=opts.rounds, quick=opts.quick)
        rows = [
            ("`generate_id('CUS')` gapless", calls.oltp("generate_id gapless", "generate_id_gapless.sql", CLIENTS),
             calls.oltp("bare upsert + format_id", "upsert_format.sql", CLIENTS)),
            ("`generate_id('FST')` fast", calls.oltp("generate_id fast", "generate_id_fast.sql", CLIENTS),
             calls.oltp("bare nextval", "nextval.sql", CLIENTS)),
            ("INSERT into a distributed table, key DEFAULT `generate_id` gapless",
             opts.oltp("INSERT, DEFAULT gapless", "insert_gapless.sql", CLIENTS),
             opts.oltp("INSERT, DEFAULT bigserial", "insert_sequence.sql", CLIENTS)),
            ("INSERT into a distributed table, key DEFAULT `generate_id` fast",
             opts.oltp("INSERT, DEFAULT fast", "insert_fast.sql", CLIENTS),
             opts.oltp("INSERT, DEFAULT bigserial", "insert_sequence.sql", CLIENTS)),
        ]  # fmt: skip
        for name, subject, reference in rows:
            log(f"{name} vs {reference.label}")
            a, b = interleave(coordinator, [subject, reference], opts.rounds, log=log)
            subject_measure, reference_measure = Measure.of(subject, a, "tps"), Measure.of(reference, b, "tps")
            section.comparisons.append(Comparison(f"{name}, {CLIENTS} clients", subject_measure, reference_measure, 0))
    section.notes += [
        "Gapless clients queue on one counter row of the coordinator, as on one server. In a distributed "
        "INSERT each holds that row's lock until its commit, which now includes the worker holding the new "
        "key's shard (a commit there too), so the queue drains more slowly than on one server: that is the "
        "price of no gaps. Fast mode holds no lock and stays near the bare sequence.",
        "Through Citus, every statement a client sends passes Citus's planner, which looks up each table "
        "it names; a call of `generate_id` plans its statements once per session inside the function. "
        "That is why the bare references, sent as statements, can be slower here than idsql.",
        "The cluster shares this machine's 2 cores among three servers and pgbench, so the absolute "
        "numbers are far below a real cluster's; the ratios are what carries over.",
    ]
    return section
