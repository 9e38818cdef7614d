"""Static analysis of every idsql PL/pgSQL function with plpgsql_check, where the server has it."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

# Warnings we accept, each with the reason; the key is (function signature, message start).
JUSTIFIED: dict[tuple[str, str], str] = {
    ("idsql._replace_id(regclass,text,text,boolean)", "the expression is not SQL injection safe"): (
        "the one statement that rewrites every table is assembled from parts each built by format() "
        "with %I for column names and regclass/regtype for tables and types; values go through USING"
    ),
    ("idsql.plan_replace_id(regclass,text)", "text type variable is not sanitized"): (
        "match_condition comes from _referencing_fks, built by format() with %I for columns and "
        "regclass/regtype for tables and types; the old ID goes through USING"
    ),
    ("idsql._server_id_for(regclass,text)", "text type variable is not sanitized"): (
        "the generator 'default' evaluates the key column's DEFAULT expression, read from pg_attrdef "
        "(written by the table's owner in its DDL), never text from the caller"
    ),
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
