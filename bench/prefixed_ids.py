"""Prefixed IDs against the bare statements the spec measures them by (spec/prefixed-ids.md).

1. ``generate_id`` gapless vs a bare one-row upsert that formats its value: ≥ 0.95× (the spec
   asks 0.9×; issue 21 raised it).
2. ``generate_id`` fast vs bare ``nextval``: ≥ 0.9× (spec 0.8×, raised by issue 21).
3. ``bulk_generate_ids`` vs a bare formatting query over ``generate_series``: ≥ 0.5×; and vs
   single ``generate_id`` calls, in one statement and from a client loop: ≥ 100×.
4. How bulk cost grows: ``bulk_generate_ids`` and the bare formatting at 1 to 10,000,000 IDs a
   call, as rows without a target, so that IDs/s reads flat where the cost is linear.
"""

from __future__ import annotations

from collections.abc import Callable

import pyidsql
from bench import harness
from bench.harness import BENCH_DIR, Comparison, Measure, Run, Section, Server, interleave
from pyidsql.install import install

SQL = BENCH_DIR / "sql" / "prefixed_ids"
TITLE = "Prefixed IDs"
BULK_IDS = 1_000_000  # what the spec names
GROWTH = (1, 100, 10_000, 10_000_000)  # with BULK_IDS, the sizes of the growth rows
QUICK_GROWTH = (1, 100, 10_000)
GAPLESS_TARGET = 0.95  # issue 21 (the spec: 0.9)
FAST_TARGET = 0.9  # issue 21 (the spec: 0.8)


class Options(harness.Options):
    """How long to measure (see :class:`bench.harness.Options`), with this capability's scripts."""

    sql_dir = SQL


def prepare(server: Server) -> None:
    """Install idsql in the bench database and create the reference objects and prefixes."""
    with server.connect() as conn:
        install(conn)
        conn.execute((SQL / "setup.sql").read_text().encode())
    vacuum(server)


def vacuum(server: Server) -> None:
    """Clear the counters' dead row versions so every comparison starts from the same state."""
    with server.connect() as conn:
        conn.execute("VACUUM ANALYZE bench_counter, idsql.prefix_counter")


def run(server: Server, opts: Options, log: Callable[[str], None] = print) -> Section:
    """Measure every prefixed-ID target and return the section for BENCHMARKS.md."""
    prepare(server)
    section = Section(
        title=TITLE,
        intro=(
            "Throughput of idsql against the bare SQL it replaces, per spec/prefixed-ids.md "
            "(Performance). tps = transactions per second of pgbench (one statement each, "
            "committed, so gapless runs include a durable commit); IDs/s for the bulk rows."
        ),
        setup=(
            f'Database setup for the commands: `pyidsql install --dsn "$DSN"` (idsql {pyidsql.__version__}), '
            'then `psql "$DSN" -f bench/sql/prefixed_ids/setup.sql`.'
        ),
    )
    for clients in (1, 8):
        section.comparisons.append(
            _pair(
                server,
                opts,
                log,
                name=f"`generate_id('CUS')` gapless, {clients} client{'s' if clients > 1 else ''}",
                subject=opts.oltp(f"generate_id gapless, {clients}c", "generate_id_gapless.sql", clients),
                reference=opts.oltp(f"bare upsert + format_id, {clients}c", "upsert_format.sql", clients),
                target=GAPLESS_TARGET,
            )
        )
    for clients in (1, 8):
        section.comparisons.append(
            _pair(
                server,
                opts,
                log,
                name=f"`generate_id('FST')` fast, {clients} client{'s' if clients > 1 else ''}",
                subject=opts.oltp(f"generate_id fast, {clients}c", "generate_id_fast.sql", clients),
                reference=opts.oltp(f"bare nextval, {clients}c", "nextval.sql", clients),
                target=FAST_TARGET,
            )
        )
    section.comparisons += _bulk(server, opts, log)
    section.comparisons += _growth(server, opts, log)
    section.notes += [
        "Every gapless transaction ends in a durable commit, so gapless throughput is bounded by the "
        "disk's flush time as much as by the SQL: a faster disk makes both sides faster and the ratio "
        "more sensitive to the CPU cost of `generate_id`.",
        f"8-client runs use `-j {Run('', SQL, clients=8).threads}` (one pgbench thread per core, at most); "
        "all gapless clients queue on one counter row, as they would in production for one prefix.",
        "The gapless reference is the spec's bare upsert on a one-row table, returning "
        "`idsql.format_id('CUS', v)` so both sides format the ID; the fast reference returns the bare "
        "number, so its ratio includes all of the formatting.",
        "Growth rows: each call of `bulk_generate_ids` is its own transaction and commits the counter durably, "
        "while the bare formatting writes nothing, so at a few IDs a call the commit dominates the bulk side; "
        "from about 10,000 IDs a call both sides are bound by the formatting, and the IDs/s of each stays flat "
        "as the size grows a thousandfold: the cost is linear in the IDs.",
    ]
    return section


def _pair(
    server: Server,
    opts: Options,
    log: Callable[[str], None],
    *,
    name: str,
    subject: Run,
    reference: Run,
    target: float,
) -> Comparison:
    log(f"{name} vs {reference.label}")
    vacuum(server)
    a, b = interleave(server, [subject, reference], opts.rounds, log=log)
    return Comparison(name, Measure.of(subject, a, "tps"), Measure.of(reference, b, "tps"), target)


def _bulk(server: Server, opts: Options, log: Callable[[str], None]) -> list[Comparison]:
    """Bulk against bare formatting and against single calls, all runs interleaved."""
    n = 100_000 if opts.quick else BULK_IDS
    per_run = 1 if opts.quick else 3
    # Single calls in one statement: every call updates the same counter row inside one
    # transaction, and each update walks the row versions the earlier calls left behind, so the
    # cost per call grows with the number of calls. Two sizes show that growth; 1,000,000 calls
    # in one statement would take hours, so it is never run.
    loop_sizes = (200, 1_000) if opts.quick else (2_000, 10_000)
    bulk = Run(
        f"bulk_generate_ids('INV', {n:,})",
        SQL / "bulk_generate_ids.sql",
        transactions=per_run,
        protocol="simple",
        variables=(("n", str(n)),),
        per_transaction=n,
    )
    bare = Run(
        f"bare lpad over generate_series(1, {n:,})",
        SQL / "format_series.sql",
        transactions=per_run,
        protocol="simple",
        variables=(("n", str(n)),),
        per_transaction=n,
    )
    loops = [
        Run(
            f"{k:,} generate_id calls in one statement",
            SQL / "generate_id_loop.sql",
            transactions=1,
            protocol="simple",
            variables=(("n", str(k)),),
            per_transaction=k,
        )
        for k in loop_sizes
    ]
    single = opts.oltp("generate_id calls from a client loop", "generate_id_single.sql", 1)
    log(f"bulk_generate_ids vs {bare.label}, vs single generate_id calls")
    vacuum(server)
    samples = interleave(server, [bulk, bare, *loops, single], opts.rounds, log=log)
    s_bulk, s_bare, s_single = samples[0], samples[1], samples[-1]

    m_bulk = Measure.of(bulk, s_bulk, "IDs/s", f"{per_run} call(s) of {n:,} IDs per round")
    m_bare = Measure.of(bare, s_bare, "IDs/s", f"{per_run} statement(s) of {n:,} rows per round")
    m_loops = [
        Measure.of(run, s, "IDs/s", f"{run.per_transaction:,} calls in one statement and transaction per round")
        for run, s in zip(loops, samples[2:-1], strict=True)
    ]
    m_single = Measure.of(
        single,
        s_single,
        "IDs/s",
        "calls per round: " + ", ".join(f"{s.transactions:,}" for s in s_single) + " (one statement and commit each)",
    )
    million = 1_000_000
    bulk_s = million / m_bulk.median
    comparisons = [
        Comparison(
            f"`bulk_generate_ids('INV', {n:,})` vs bare formatting",
            m_bulk,
            m_bare,
            0.5,
            note=(
                f"Bulk vs bare formatting: both sum `length(id)` over the text, so every row is really "
                f"formatted; bulk {_us(m_bulk.median)}, bare {_us(m_bare.median)}."
            ),
        ),
    ]
    for run, m in zip(loops, m_loops, strict=True):
        k = run.per_transaction
        comparisons.append(
            Comparison(
                f"`bulk_generate_ids` vs single `generate_id`, {k:,} calls in one statement",
                m_bulk,
                m,
                100.0,
                note=(
                    f"{k:,} calls of `generate_id('ONE')` in `SELECT count(...) FROM generate_series(1, {k:,})`: "
                    f"{_us(m.median)}; 1,000,000 such calls at that rate (a linear extrapolation, which "
                    f"understates them: the cost per call grows with the calls before it in the transaction) "
                    f"≈ {million / m.median:,.0f} s, against {bulk_s:,.2f} s for one `bulk_generate_ids` "
                    f"of 1,000,000 at the measured bulk rate."
                ),
            )
        )
    comparisons.append(
        Comparison(
            "`bulk_generate_ids` vs single `generate_id` from a client loop (1 client, `-M prepared`)",
            m_bulk,
            m_single,
            100.0,
            note=(
                f"Client loop: pgbench sends `SELECT idsql.generate_id('ONE')`, each call its own transaction "
                f"with a durable commit: {_us(m_single.median)}; 1,000,000 calls ≈ {million / m_single.median:,.0f} s."
            ),
        )
    )
    return comparisons


def _sized(label: str, script: str, n: int, opts: Options) -> Run:
    """Return a run of *script* with ``:n`` = *n*: timed while a call is short, a few calls once it is long."""
    if n > 100_000:
        seconds, transactions = None, (1 if n > BULK_IDS else 3)
    elif opts.quick:
        seconds, transactions = None, opts.quick_transactions
    else:
        seconds, transactions = opts.seconds, None
    return Run(
        label,
        SQL / script,
        seconds=seconds,
        transactions=transactions,
        protocol="simple",
        variables=(("n", str(n)),),
        per_transaction=n,
    )


def _growth(server: Server, opts: Options, log: Callable[[str], None]) -> list[Comparison]:
    """``bulk_generate_ids`` against bare formatting at every size of GROWTH, each pair interleaved."""
    comparisons = []
    for n in QUICK_GROWTH if opts.quick else GROWTH:
        bulk = _sized(f"bulk_generate_ids('INV', {n:,})", "bulk_generate_ids.sql", n, opts)
        bare = _sized(f"bare lpad over generate_series(1, {n:,})", "format_series.sql", n, opts)
        log(f"growth: {bulk.label} vs {bare.label}")
        vacuum(server)
        s_bulk, s_bare = interleave(server, [bulk, bare], opts.rounds, log=log)
        m_bulk = Measure.of(
            bulk, s_bulk, "IDs/s", "calls per round: " + ", ".join(f"{s.transactions:,}" for s in s_bulk)
        )
        m_bare = Measure.of(
            bare, s_bare, "IDs/s", "statements per round: " + ", ".join(f"{s.transactions:,}" for s in s_bare)
        )
        comparisons.append(
            Comparison(
                f"growth: `bulk_generate_ids('INV', {n:,})` vs bare formatting (no target)",
                m_bulk,
                m_bare,
                0.0,
                note=f"Growth, {n:,} IDs a call: bulk {_us(m_bulk.median)}, bare {_us(m_bare.median)}.",
            )
        )
    return comparisons


def _us(rate: float) -> str:
    """Return a rate in IDs/s as the time per ID."""
    return f"{1e6 / rate:,.2f} µs/ID"
