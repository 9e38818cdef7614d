"""The bench harness (bench/harness.py) on a real server with its own pgbench: what a failed run does."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from bench import harness
from pyidsql.testing import PgServer

# Fails in the first two runs of pgbench and succeeds from the third on: each run is a new
# client whose first statement takes the next value of the sequence.
FLAKY = "SELECT 1 / (nextval('bench_attempt') > 2)::int;\n"


@pytest.fixture
def bench_server(pg_server: PgServer, empty_dsn: str) -> harness.Server:
    if pg_server.bindir is None:
        pytest.skip("the server under test came from a DSN: no pgbench of its version to run")
    with psycopg.connect(empty_dsn, autocommit=True) as c:
        c.execute("CREATE SEQUENCE bench_attempt")
    dbname = conninfo_to_dict(empty_dsn)["dbname"]
    return harness.Server(
        "test", pg_server.host, pg_server.port, pg_server.bindir, user=pg_server.user, database=str(dbname)
    )


def _attempts(server: harness.Server) -> int:
    with server.connect() as c:
        row = c.execute("SELECT last_value FROM bench_attempt").fetchone()
    assert row is not None
    return int(row[0])


def test_interleave_runs_a_failed_reference_again_and_says_so(bench_server: harness.Server, tmp_path: Path) -> None:
    script = tmp_path / "flaky.sql"
    script.write_text(FLAKY)
    reference = harness.Run("flaky reference", script, transactions=3, retries=2)
    between: list[int] = []
    lines: list[str] = []
    [samples] = harness.interleave(bench_server, [reference], 1, between=lambda: between.append(1), log=lines.append)
    assert [s.transactions for s in samples] == [3]
    assert _attempts(bench_server) == 5  # two failed first statements, then three transactions
    assert len(between) == 3  # before every attempt, so each starts from the same state
    failed = [line for line in lines if "failed, running it again" in line]
    assert [line.split("(")[1][:6] for line in failed] == ["1 of 2", "2 of 2"]
    assert all("division by zero" in line for line in failed)


@pytest.mark.parametrize("retries", [0, 1])
def test_interleave_stops_when_a_run_fails_more_often_than_it_may(
    bench_server: harness.Server, tmp_path: Path, retries: int
) -> None:
    # A run of pyidsql's keeps retries at 0: its first error stops the bench.
    script = tmp_path / "flaky.sql"
    script.write_text(FLAKY)
    run = harness.Run("flaky", script, transactions=3, retries=retries)
    with pytest.raises(harness.BenchError, match="division by zero"):
        harness.interleave(bench_server, [run], 1, log=lambda _: None)
    assert _attempts(bench_server) == retries + 1
