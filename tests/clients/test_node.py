"""node-postgres (npm ``pg``) against idsql: the shared calls, ``rowCount`` and errors in full.

``make client-deps`` installs ``pg`` into tests/clients/node with the machine's npm; Node is the
machine's. Without them this test fails and says so: it is never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from .conftest import CALLS, ERRORS, FINAL, row_versions

NODE_DIR = Path(__file__).parent / "node"


def _config(dsn: str) -> str:
    """node-postgres's connection config as JSON; a host that is a directory is the server's socket."""
    p = conninfo_to_dict(dsn)
    return json.dumps(
        {
            "host": p.get("host", "localhost"),
            "port": int(p.get("port", 5432)),
            "user": p.get("user"),
            "password": p.get("password"),
            "database": p["dbname"],
        }
    )


def test_node_postgres_calls_row_counts_and_errors(
    client_dsn: str, reference_errors: dict[str, Any], reference_calls: list[str]
) -> None:
    node = shutil.which("node")
    assert node is not None, "no node on PATH (Debian: nodejs)"
    assert (NODE_DIR / "node_modules" / "pg").is_dir(), "node-postgres is not installed: run make client-deps"
    run = subprocess.run(
        [node, str(NODE_DIR / "client.js"), _config(client_dsn)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=NODE_DIR,
        env={**os.environ, "IDSQL_ERRORS": json.dumps(ERRORS), "IDSQL_CALLS": json.dumps([s for _, s in CALLS])},
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["first"], out["update"], out["generated"]) == ("ACC-AAA0001", 1, "ACC-AAA0005")
    assert out["bulk"] == [1000, 1000, "BLK-AAA0001", "BLK-AAA1000"]
    assert (out["noop"], out["noop_returning"]) == (4, [4, 4])
    assert {k: tuple(v) for k, v in out["errors"].items()} == reference_errors
    assert out["calls"] == reference_calls
    assert row_versions(client_dsn) == FINAL
