"""Load: 16 connections through every capability, then the invariants of :mod:`workload`.

``make test`` runs it for a few seconds; ``make soak`` (``PYIDSQL_SOAK=1``) for ten minutes
(``PYIDSQL_SOAK_SECONDS``) and writes throughput and errors to the soak report. Nothing here
asserts a rate: the outcome is checked, the numbers are reported.
"""

from __future__ import annotations

import threading
import time

import soak
import workload

from pyidsql.testing import PgServer

CLIENTS = 16
SECONDS = soak.SECONDS if soak.SOAK else 5.0


def test_workload_16_connections_every_capability_invariants_hold(dsn: str, pg_server: PgServer) -> None:
    workload.setup(dsn)
    ledger = workload.Ledger()
    stop = threading.Event()
    started = time.monotonic()
    threads = workload.run(dsn, CLIENTS, ledger, stop, seed=16)
    stop.wait(SECONDS)
    stop.set()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a client hung"
    elapsed = time.monotonic() - started
    facts = workload.check(dsn, ledger)
    unexpected = {k: n for k, n in ledger.errors.items() if k not in workload.EXPECTED}
    assert unexpected == {}, f"errors under load: {unexpected}"
    assert all(ledger.ops[k] > 0 for k in workload.OPS), f"a capability never committed: {ledger.ops}"
    total = sum(ledger.ops.values())
    soak.report(
        f"Load on PostgreSQL {pg_server.version}",
        [f"{CLIENTS} connections for {elapsed:.0f} s: {total} transactions, {total / elapsed:.0f}/s"
         " (the shared test server: fsync and synchronous_commit off)",
         *(f"  {kind}: {n} ({n / elapsed:.1f}/s)" for kind, n in sorted(ledger.ops.items())),
         f"  checked: {facts}",
         f"  errors: {dict(ledger.errors) or 'none'}"],
    )  # fmt: skip
