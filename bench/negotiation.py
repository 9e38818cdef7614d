"""ID negotiation: the cost of ``replace_id_everywhere`` (spec/id-negotiation.md, Performance).

A parent with 1,000 / 10,000 / 100,000 referencing rows spread over 5 child tables (foreign-key
columns indexed, each child also holding rows of another parent). Each round makes a fresh
temporary parent with its children (not timed), then times one ``replace_id_everywhere`` call and
its commit. Measured side by side with a hand-written rewrite of the same rows (one statement of
six UPDATEs, no checks, no queue, no log), and against the spec's budget: 10,000 rows in 200 ms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.harness import Comparison, Measure, Section, Server
from pyidsql.install import install

TITLE = "ID negotiation"
CHILDREN = 5
SIZES = (1_000, 10_000, 100_000)
BUDGET_ROWS, BUDGET_SECONDS = 10_000, 0.2  # the spec's target
OTHER_ROWS = 20_000  # per child table, referencing another parent

SETUP = """
CREATE TABLE bench_parent (id text PRIMARY KEY, name text NOT NULL);
SELECT idsql.set_id_strategy('bench_parent', 'server', 'prefix:BP');
INSERT INTO bench_parent VALUES ('BP-OTHER', 'other');
""" + "".join(
    f"""
CREATE TABLE bench_child{i} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                             parent_id text NOT NULL REFERENCES bench_parent, note text);
CREATE INDEX ON bench_child{i} (parent_id);
INSERT INTO bench_child{i} (parent_id, note) SELECT 'BP-OTHER', 'row ' || g FROM generate_series(1, {OTHER_ROWS}) g;
"""
    for i in range(1, CHILDREN + 1)
)

BARE = (
    "WITH p AS (UPDATE bench_parent SET id = %(new)s WHERE id = %(old)s)"
    + "".join(
        f", c{i} AS (UPDATE bench_child{i} SET parent_id = %(new)s WHERE parent_id = %(old)s)"
        for i in range(1, CHILDREN + 1)
    )
    + " SELECT 1"
)
SUBJECT = "SELECT idsql.replace_id_everywhere('bench_parent', %(old)s, %(new)s)"


@dataclass(frozen=True)
class Options:
    """Rounds per size (``--quick``: one); ``seconds`` is unused here, every call is timed whole."""

    seconds: int
    rounds: int
    quick: bool


class _Parents:
    """Fresh temporary parents with their referencing rows, made outside the timed part."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.count = 0

    def make(self, rows: int) -> tuple[str, str]:
        self.count += 1
        old, new = f"tmp_bench_{self.count}", f"BP-{self.count:06d}"
        self.conn.execute("INSERT INTO bench_parent VALUES (%s, 'bench')", (old,))
        for i in range(1, CHILDREN + 1):
            share = rows // CHILDREN + (1 if i <= rows % CHILDREN else 0)
            self.conn.execute(
                f"INSERT INTO bench_child{i} (parent_id, note) SELECT %s, 'n' FROM generate_series(1, %s)",  # type: ignore[arg-type]
                (old, share),
            )
        self.conn.commit()
        self.conn.execute("ANALYZE")
        self.conn.commit()
        return old, new


def _timed(conn: Any, query: Any, old: str, new: str) -> float:
    began = time.perf_counter()
    conn.execute(query, {"old": old, "new": new})
    conn.commit()
    return time.perf_counter() - began


def run(server: Server, opts: Options, log: Callable[[str], None] = print) -> Section:
    """Time replace_id_everywhere at each size against the hand-written rewrite; return the section."""
    with server.connect() as conn:
        install(conn)
        conn.execute(SETUP.encode())
        conn.commit()
        parents = _Parents(conn)
        # Warm up (not timed): the first call of a session compiles the PL/pgSQL functions.
        for query in (SUBJECT, BARE):
            _timed(conn, query, *parents.make(CHILDREN))
        rates: dict[int, tuple[list[float], list[float]]] = {}
        for rows in SIZES:
            subject: list[float] = []
            bare: list[float] = []
            for round_no in range(1, opts.rounds + 1):
                for samples, query, label in ((subject, SUBJECT, "replace_id_everywhere"), (bare, BARE, "bare")):
                    old, new = parents.make(rows)
                    seconds = _timed(conn, query, old, new)
                    samples.append(rows / seconds)
                    log(f"  round {round_no}/{opts.rounds}  {rows:>7,} rows  {label:<22} {seconds * 1000:9.1f} ms")
            rates[rows] = (subject, bare)

    def measure(rows: int, which: int) -> Measure:
        samples = rates[rows][which]
        label = f"{'replace_id_everywhere' if which == 0 else 'hand-written UPDATEs'}, {rows:,} rows"
        ms = ", ".join(f"{rows / s * 1000:,.1f}" for s in samples)
        return Measure(
            label,
            tuple(samples),
            "rows/s",
            (SUBJECT if which == 0 else BARE) % {"old": "'tmp_…'", "new": "'BP-…'"},
            f"ms per call: {ms}",
        )

    budget = Measure(
        f"spec budget: {BUDGET_ROWS:,} rows in {BUDGET_SECONDS * 1000:.0f} ms",
        (BUDGET_ROWS / BUDGET_SECONDS,) * opts.rounds,
        "rows/s",
        "spec/id-negotiation.md, Performance",
    )
    section = Section(
        title=TITLE,
        intro=(
            "`replace_id_everywhere` on a parent referenced by N rows over 5 tables (FK columns indexed), "
            "each call timed with its commit (psycopg, one call per round, a fresh parent each time). "
            "rows/s = referencing rows rewritten per second; constant rows/s across sizes means cost "
            "linear in the rows touched."
        ),
        setup="Database setup: `pyidsql install`, then the tables in `bench/negotiation.py` (SETUP).",
    )
    budget_ms = BUDGET_ROWS / statistics.median(rates[BUDGET_ROWS][0]) * 1000
    section.comparisons.append(
        Comparison(
            f"`replace_id_everywhere`, {BUDGET_ROWS:,} referencing rows over 5 tables vs the spec's 200 ms",
            measure(BUDGET_ROWS, 0),
            budget,
            1.0,
            note=f"{BUDGET_ROWS:,} rows: median {budget_ms:,.1f} ms per call.",
        )
    )
    for rows in SIZES:
        section.comparisons.append(
            Comparison(
                f"`replace_id_everywhere` vs hand-written UPDATEs, {rows:,} rows",
                measure(rows, 0),
                measure(rows, 1),
                0.0,  # a reference: the spec sets no target against hand-written SQL
                note=(
                    f"{rows:,} rows: {1e6 / statistics.median(rates[rows][0]):,.2f} µs per row "
                    f"(hand-written {1e6 / statistics.median(rates[rows][1]):,.2f} µs)."
                ),
            )
        )
    section.comparisons.append(
        Comparison(
            "linear cost: rows/s at 100,000 rows vs at 10,000 rows",
            measure(SIZES[-1], 0),
            measure(SIZES[1], 0),
            0.8,  # as for sequence repair: within 20% of constant cost per row
        )
    )
    section.notes += [
        "Both sides rewrite the same rows in one statement; the difference is what idsql adds: the "
        "catalog walk, the checks before writing (collision, mapping, unsafe keys), the sync queue scan, "
        "the mapping, the change log and the NOTIFY. The hand-written rows are references without a "
        "target; the linearity bar (0.8×, as for sequence repair) is ours; the spec sets the 200 ms "
        "budget. At 1,000 rows the fixed cost per call (checks, "
        "catalog, queue, log) is a visible share; from 10,000 rows on the rows dominate.",
        "Every rewritten child row is a new row version whose foreign-key column is indexed, so the "
        "update is never HOT and each row also runs PostgreSQL's foreign-key check on the new value.",
    ]
    return section
