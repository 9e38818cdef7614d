"""Static analysis of every idsql PL/pgSQL function with plpgsql_check, where the server has it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

# Warnings we accept, each with the reason; the key is (function signature, message start).
JUSTIFIED: dict[tuple[str, str], str] = {
    ("idsql._sequence_state(regclass,regclass[],name[],regtype[],bigint)",
     "routine is marked as VOLATILE, should be STABLE"):
        "A STABLE function reads with its caller's snapshot, taken before the fix locked the tables: "
        "the max must be read with a fresh snapshot, after the lock, or rows committed meanwhile are missed.",
    ("idsql._lock_sequence_tables(regclass[])", "routine is marked as VOLATILE, should be STABLE"):
        "It runs LOCK TABLE (through EXECUTE, which plpgsql_check cannot see), refused in a STABLE function.",
}

CHECK_ALL = """
SELECT p.oid::regprocedure::text, (pcf).lineno, (pcf).sqlstate, (pcf).message, (pcf).level
  FROM pg_proc p,
       LATERAL plpgsql_check_function_tb(p.oid, extra_warnings => true, performance_warnings => true,
                                         security_warnings => true) AS pcf
 WHERE p.pronamespace = 'idsql'::regnamespace
   AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
   AND p.prorettype <> 'trigger'::regtype
"""


def test_plpgsql_check_finds_nothing(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        available = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'plpgsql_check'"
        ).fetchone()
        if not available or not available[0]:
            pytest.skip("plpgsql_check is not installed on this server (Debian: postgresql-15-plpgsql-check)")
        conn.execute("CREATE EXTENSION plpgsql_check")
        findings: list[Any] = [
            row for row in conn.execute(CHECK_ALL).fetchall() if (row[0], row[3].split(":")[0]) not in JUSTIFIED
        ]
    assert findings == []
