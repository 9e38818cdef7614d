"""Static analysis of every idsql PL/pgSQL function with plpgsql_check, where the server has it."""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg
import pytest

# Warnings we accept, each with the reason; the key is (function signature, message start), with
# the OID in the names of generated functions written <oid>. The test reads this list: a warning
# not in it fails, and so does an entry whose warning no longer occurs.
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
    ("idsql._state_version_live_keys(regclass,jsonb)", "text type variable is not sanitized"): (
        "v_same and v_match are built by format() from %I-quoted column names, %L-quoted parent column names "
        "and format_type() of the catalog's types; the parent key is bound as $1"
    ),
    ("idsql._state_version_define(name,text,text)", "text type variable is not sanitized"): (
        "definition is a generated trigger function from _state_version_triggers or _state_version_after_function: "
        "every identifier in it went through %I or regclass, every literal through %L"
    ),
    ("idsql.rollback_to_version(regclass,jsonb,bigint)", "text type variable is not sanitized"): (
        "v_cols, v_set, v_target, v_now and v_match are built by format() from %I-quoted column names and an "
        "oid; the root, key and version are bound as $1..$3"
    ),
    (
        "idsql._sequence_state(regclass,regclass[],name[],regtype[],bigint)",
        "routine is marked as VOLATILE, should be STABLE",
    ): "A STABLE function reads with its caller's snapshot, taken before the fix locked the tables: "
    "the max must be read with a fresh snapshot, after the lock, or rows committed meanwhile are missed.",
    (
        "idsql._lock_sequence_tables(regclass[])",
        "routine is marked as VOLATILE, should be STABLE",
    ): "It runs LOCK TABLE (through EXECUTE, which plpgsql_check cannot see), refused in a STABLE function.",
}

# Tables that put every idsql trigger function to work, so each is checked against a relation:
# state versions at all three levels (the generated row and statement functions, and the no-op
# trigger of a table without a row function, and the recording of a move for a descendant with history),
# late-reference resolution, and idsql's own sync queue.
SAMPLE = """
CREATE TABLE chat_session (session_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1,
                           updated_at timestamptz);
CREATE TABLE entity (entity_id text PRIMARY KEY, session_id text NOT NULL REFERENCES chat_session,
                     name text, created_at timestamptz NOT NULL DEFAULT now(),
                     updated_at timestamptz NOT NULL DEFAULT now(), state_version bigint NOT NULL DEFAULT 1);
CREATE TABLE entity_attribute (attribute_id text PRIMARY KEY, entity_id text NOT NULL REFERENCES entity,
                               value text, updated_at timestamptz);
CREATE TABLE counted (id int PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1, v text);
SELECT idsql.enable_state_version('chat_session', history => true);
SELECT idsql.enable_state_version('entity', parent => 'chat_session', history => true);
SELECT idsql.enable_state_version('entity_attribute', version_column => NULL, parent => 'entity');
SELECT idsql.enable_state_version('counted');
CREATE TABLE entity_note (note_id text PRIMARY KEY, entity_id text NOT NULL REFERENCES entity, body text);
SELECT idsql.enable_state_version('entity_note', version_column => NULL, parent => 'entity', history => true);
CREATE TABLE project (id text PRIMARY KEY);
CREATE TABLE task (id text PRIMARY KEY, project_id text REFERENCES project);
SELECT idsql.set_id_strategy('project', 'server', 'prefix:PRJ');
SELECT idsql.enable_late_reference_resolution('task');
"""

_OPTIONS = "extra_warnings => true, performance_warnings => true, security_warnings => true"

# Every plpgsql function of idsql that is not a trigger function, on its own.
CHECK_FUNCTIONS = f"""
SELECT p.oid::regprocedure::text, (pcf).lineno, (pcf).sqlstate, (pcf).message, (pcf).level
  FROM pg_proc p,
       LATERAL plpgsql_check_function_tb(p.oid, {_OPTIONS}) AS pcf
 WHERE p.pronamespace = 'idsql'::regnamespace
   AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
   AND p.prorettype <> 'trigger'::regtype
"""

# Every idsql plpgsql trigger function, on each relation it is a trigger of. A function shared by
# the INSERT, UPDATE and DELETE triggers of a table sees the OLD table in some and the NEW table in
# others, and branches on TG_OP: check it with every transition table its triggers declare.
CHECK_TRIGGERS = f"""
SELECT DISTINCT p.oid::regprocedure::text, (pcf).lineno, (pcf).sqlstate, (pcf).message, (pcf).level
  FROM (SELECT t.tgfoid, t.tgrelid, max(t.tgoldtable) AS oldtable, max(t.tgnewtable) AS newtable
          FROM pg_trigger t GROUP BY t.tgfoid, t.tgrelid) t
  JOIN pg_proc p ON p.oid = t.tgfoid,
       LATERAL plpgsql_check_function_tb(p.oid, t.tgrelid, {_OPTIONS},
                                         oldtable => t.oldtable, newtable => t.newtable) AS pcf
 WHERE p.pronamespace = 'idsql'::regnamespace
   AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')
"""

# Trigger functions that no trigger of the sample uses: they would go unchecked.
UNUSED_TRIGGER_FUNCTIONS = """
SELECT p.oid::regprocedure::text
  FROM pg_proc p
 WHERE p.pronamespace = 'idsql'::regnamespace AND p.prorettype = 'trigger'::regtype
   AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgfoid = p.oid)
"""

# Generated per-table functions carry the table's OID in their name: compare them without it.
_GENERATED = re.compile(r"(tg_state_version_(?:row|after)_)\d+")


def _key(signature: str, message: str) -> tuple[str, str]:
    return _GENERATED.sub(r"\1<oid>", signature), message.split(":")[0]


@pytest.fixture
def checked(dsn: str) -> Any:
    with psycopg.connect(dsn, autocommit=True) as conn:
        available = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'plpgsql_check'").fetchone()
        if not available or not available[0]:
            reason = "plpgsql_check is not installed on this server (Debian: postgresql-15-plpgsql-check)"
            if os.environ.get("PYIDSQL_REQUIRE_PLPGSQL_CHECK"):
                pytest.fail(f"{reason}; PYIDSQL_REQUIRE_PLPGSQL_CHECK is set", pytrace=False)
            pytest.skip(reason)
        conn.execute("CREATE EXTENSION plpgsql_check")
        conn.execute(SAMPLE)
        yield conn


def test_plpgsql_check_finds_nothing_in_functions(checked: psycopg.Connection[Any]) -> None:
    findings = [row for row in checked.execute(CHECK_FUNCTIONS).fetchall() if _key(row[0], row[3]) not in JUSTIFIED]
    assert findings == []


def test_plpgsql_check_finds_nothing_in_trigger_functions(checked: psycopg.Connection[Any]) -> None:
    assert checked.execute(UNUSED_TRIGGER_FUNCTIONS).fetchall() == [], "add a table using it to SAMPLE"
    rows = checked.execute(CHECK_TRIGGERS).fetchall()
    checked_functions = {
        _GENERATED.sub(r"\1<oid>", r[0])
        for r in checked.execute(
            "SELECT DISTINCT tgfoid::regprocedure::text FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE p.pronamespace = 'idsql'::regnamespace"
        ).fetchall()
    }
    # Each kind of generated function and each fixed trigger function was reached.
    assert checked_functions >= {
        "idsql.tg_state_version_row_<oid>()",
        "idsql.tg_state_version_after_<oid>()",
        "idsql.tg_negotiation_resolve()",
        "idsql.tg_sync_queue_transition()",
        "idsql._state_version_skip()",
    }
    assert [row for row in rows if _key(row[0], row[3]) not in JUSTIFIED] == []


def test_plpgsql_check_every_justification_is_still_needed(checked: psycopg.Connection[Any]) -> None:
    """A justified warning that no longer occurs is dropped from JUSTIFIED, so the list stays true."""
    found = {_key(row[0], row[3]) for query in (CHECK_FUNCTIONS, CHECK_TRIGGERS)
             for row in checked.execute(query).fetchall()}  # fmt: skip
    assert sorted(set(JUSTIFIED) - found) == []
