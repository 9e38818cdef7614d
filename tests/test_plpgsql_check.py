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
    ("idsql._insert_with_retry(regclass,jsonb,integer)", "text type variable is not sanitized"): (
        "v_columns and v_values are built by format() with %I from pg_attribute.attname (the keys of data "
        "are only matched against it), and v_stmt is a fixed prefix and an md5; data goes in through %L"
    ),
    ("idsql._state_version_touch(regclass,jsonb[])", "text type variable is not sanitized"): (
        "v_match is built by format() from %I-quoted key columns and a regclass; the keys are bound as $1"
    ),
    ("idsql._state_version_triggers(regclass,name)", "text type variable is not sanitized"): (
        "v_fn_sql is the generated row trigger: every identifier in it went through %I, every literal through %L"
    ),
    ("idsql._state_version_after_function(regclass)", "routine is marked as VOLATILE, should be STABLE"): (
        "it runs CREATE FUNCTION and COMMENT through EXECUTE, which plpgsql_check cannot see; a STABLE "
        "function may not run them"
    ),
    ("idsql.rollback_to_version(regclass,jsonb,bigint)", "text type variable is not sanitized"): (
        "v_cols, v_set, v_target, v_now and v_match are built by format() from %I-quoted column names and an "
        "oid; the root, key and version are bound as $1..$3"
    ),
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
