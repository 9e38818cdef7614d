"""Hostile input for every public idsql routine: results or clean errors, never a crash or a stray change.

The routines come from the catalog, so a new one cannot slip past: each needs an entry in
``STRATEGIES`` (argument name → Hypothesis strategy), and a test fails for any routine without one.
Every text argument gets fuzzed text, SQL-injection strings and near-valid values; tables and
columns (``regclass`` and ``name`` arguments, and the keys of jsonb arguments) come from a schema
whose every identifier is itself an injection attempt. Each call runs on its own in autocommit and
must end in a result or an error of SQLSTATE class ``ID``, ``22``, ``23`` or ``42``: never
``XX000``, a lost connection, a syntax error (user text parsed as SQL), or a timeout. Rows must not
change where they should not: the table ``public.victim`` never, and nothing at all when the call
failed or only reads.

``make test`` draws 500 cases over all routines, ``make soak`` 10,000 (``PYIDSQL_HYPOTHESIS_PROFILE``).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from typing import Any

import psycopg
import pytest
import soak
from hypothesis import example, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.types.json import Jsonb
from test_prefixed_ids_fuzz import ALPHABET, IDS, PREFIXES

CASES = {"test": 500, "soak": 10_000}[os.environ.get("PYIDSQL_HYPOTHESIS_PROFILE", "test")]

# Every identifier of the fixture schema tries to end the statement it is pasted into.
SCHEMA = "Robert'); DROP TABLE public.victim; --"
T_IDS = "t'; DELETE FROM public.victim; --"
T_SERIAL = "s$$; DROP TABLE public.victim; $$"
T_SOURCE = "p%I%L%s"
T_PARENT = 'parent"; TRUNCATE public.victim; --'
T_CHILD = "child' || pg_catalog.pg_sleep(5) || '"
T_ROOT = "root%%; UPDATE public.victim SET note = 'x'"
T_LEAF = "leaf;"
C_NOTE = 'note"; TRUNCATE public.victim; --'
C_PARENT = "parent_id'); DELETE FROM public.victim; --"
C_ROOT = "root id"
C_VAL = 'val"'
C_CODE = "code'||'"

INJECTIONS = [
    "'; DROP TABLE public.victim; --",
    "'); DELETE FROM public.victim; --",
    '"; TRUNCATE public.victim; --',
    "$$; DROP TABLE public.victim; $$",
    "x' OR '1'='1",
    "1; UPDATE public.victim SET note = 'pwned'",
    "%I %L %s %1$s",
    "\\'; DROP TABLE public.victim; --",
    "public.victim",
    "victim",
    "pg_catalog.pg_class",
    "idsql.prefix_counter",
    "idsql.sync_queue",
    "information_schema.tables",
    '"',
    "'",
    "",
    " ",
    "-",
    "*/ DROP TABLE public.victim; /*",
    "a" * 64,
    "é" * 40,
    "CUS-AAA0001'; --",
    "tmp_'; --",
    "prefix:'; --",
    "prefix:CUS'; DROP TABLE public.victim; --",
]

FIXTURE = sql.SQL("""
CREATE TABLE public.victim (id int PRIMARY KEY, note text NOT NULL);
INSERT INTO public.victim VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE SCHEMA {schema};
CREATE TABLE {t_ids} (id bigint PRIMARY KEY, {c_note} text DEFAULT 'x', n int);
INSERT INTO {t_ids} (id, n) VALUES (1, 1), (5, 5);
CREATE TABLE {t_serial} (id serial PRIMARY KEY, v text);
INSERT INTO {t_serial} (id, v) VALUES (10, 'ten');
CREATE TABLE {t_source} ({c_code} text);
INSERT INTO {t_source} VALUES ('CUS-AAA0042'), ('junk');
CREATE TABLE {t_parent} (id text PRIMARY KEY, name text);
CREATE TABLE {t_child} (id text PRIMARY KEY, {c_parent} text REFERENCES {t_parent}, name text);
CREATE INDEX ON {t_child} ({c_parent});
SELECT idsql.set_id_strategy({l_parent}, 'server', 'prefix:PRJ');
INSERT INTO {t_parent} VALUES ('tmp_0000000000000000000000001', 'offline'), ('PRJ-AAA0001', 'online');
INSERT INTO {t_child} VALUES ('tmp_0000000000000000000000002', 'tmp_0000000000000000000000001', 'c');
SELECT idsql.enqueue_sync({l_parent}, 'tmp_0000000000000000000000001', 'create',
                          '{{"id": "tmp_0000000000000000000000001"}}', 'tmp_0000000000000000000000001');
CREATE TABLE {t_root} (id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1, {c_val} text);
CREATE TABLE {t_leaf} (id text PRIMARY KEY, {c_root} text NOT NULL REFERENCES {t_root},
                       state_version bigint NOT NULL DEFAULT 1, {c_val} text);
SELECT idsql.enable_state_version({l_root}, history => true);
SELECT idsql.enable_state_version({l_leaf}, parent => {l_root}, history => true);
INSERT INTO {t_root} (id, {c_val}) VALUES ('R1', 'a');
INSERT INTO {t_leaf} (id, {c_root}, {c_val}) VALUES ('L1', 'R1', 'a');
UPDATE {t_leaf} SET {c_val} = 'b';
""")


def _qualified(table: str) -> sql.Identifier:
    return sql.Identifier(SCHEMA, table)


TABLES = [T_IDS, T_SERIAL, T_SOURCE, T_PARENT, T_CHILD, T_ROOT, T_LEAF]
COLUMNS = ["id", C_NOTE, C_PARENT, C_ROOT, C_VAL, C_CODE, "state_version", "n", "v", "name"]


def _regclass_text(table: str) -> str:
    """The text a caller would cast to regclass for a table of the fixture schema."""
    return sql.Identifier(SCHEMA, table).as_string(None)


HOSTILE = st.sampled_from(INJECTIONS)
ANY_TEXT = st.text(ALPHABET, max_size=40)
FIXTURE_TABLE = st.sampled_from([_regclass_text(t) for t in TABLES])
# The fixture's own tables and columns are drawn most often, so calls get past the first checks.
TABLE = st.one_of(
    FIXTURE_TABLE,
    FIXTURE_TABLE,
    FIXTURE_TABLE,
    st.sampled_from(["pg_catalog.pg_class", "idsql.prefix_counter", "idsql.sync_queue", "idsql.row_version"]),
    # regclass accepts any number as an OID without looking it up: '-' and '0' are OID 0
    st.sampled_from(["-", "0", "1259", "16384", "4294967295", "idsql.temp_id_seq", "pg_catalog.pg_class_oid_index"]),
    HOSTILE,
    ANY_TEXT,
)
FIXTURE_COLUMN = st.sampled_from(COLUMNS)
COLUMN = st.one_of(FIXTURE_COLUMN, FIXTURE_COLUMN, HOSTILE, ANY_TEXT)
# Roles: ones every server has, then the same near misses, injections and noise as names.
ROLE = st.one_of(st.sampled_from(["pg_monitor", "pg_read_all_data"]), HOSTILE, ANY_TEXT)
SCHEMAS = st.lists(st.one_of(st.sampled_from([SCHEMA, "public", "idsql", "pg_catalog"]), HOSTILE, ANY_TEXT), max_size=4)
PREFIX = st.one_of(PREFIXES, HOSTILE)
TEMP_IDS = ["tmp_0000000000000000000000001", "tmp_0000000000000000000000002", "tmp_" + "z" * 25]
KNOWN_ID = st.sampled_from([*TEMP_IDS, "PRJ-AAA0001", "R1", "L1", "1", "-1"])
ID = st.one_of(KNOWN_ID, KNOWN_ID, IDS, HOSTILE, ANY_TEXT)
INT = st.one_of(st.integers(-3, 40), st.sampled_from([2**31 - 1, -(2**31), 10_000_001]))
BIGINT = st.one_of(st.integers(-3, 40), st.sampled_from([2**63 - 1, -(2**63), 2**31]))
BOOL = st.booleans()
TIMESTAMP = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(["infinity", "-infinity", "now", "epoch", "2026-12-07 10:00 Europe/Paris"]),
    HOSTILE,
    ANY_TEXT,
)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False), ID)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.one_of(COLUMN, HOSTILE), inner, max_size=3)
    ),
    max_leaves=8,
)
ROW = st.dictionaries(st.one_of(st.sampled_from(COLUMNS), HOSTILE), SCALAR, max_size=3)
KEY = st.one_of(st.fixed_dictionaries({"id": ID}), st.fixed_dictionaries({"id": ID}), ROW, JSON)
BATCH = st.one_of(
    st.lists(st.fixed_dictionaries({"table": TABLE, "temp_id": ID}, optional={"new_id": ID, "x": JSON}), max_size=3),
    JSON,
)


def words(*legal: str) -> st.SearchStrategy[str]:
    """Legal values of an enumerated text argument, near misses, injections and noise."""
    return st.one_of(st.sampled_from(legal), st.sampled_from([w.upper() for w in legal]), HOSTILE, ANY_TEXT)


GENERATOR = st.one_of(
    words("default", "uuidv7", "prefix:PRJ"),
    st.builds(lambda p: f"prefix:{p}", PREFIX),
)

# One entry per public routine (regprocedure text → argument name → (SQL type, strategy)).
# Arguments left out keep their defaults.
STRATEGIES: dict[str, dict[str, tuple[str, st.SearchStrategy[Any]]]] = {
    "idsql.format_id(text,bigint,integer,integer)": {
        "prefix": ("text", PREFIX), "ordinal": ("bigint", BIGINT), "digits": ("int", INT), "min_letters": ("int", INT),
    },
    "idsql.parse_id(text,integer,integer)": {"id": ("text", ID), "digits": ("int", INT), "min_letters": ("int", INT)},
    "idsql.is_valid_id(text,text,integer,integer)": {
        "id": ("text", ID), "prefix": ("text", PREFIX), "digits": ("int", INT), "min_letters": ("int", INT),
    },
    "idsql.increment_id(text,integer,integer)": {
        "id": ("text", ID), "digits": ("int", INT), "min_letters": ("int", INT),
    },
    "idsql.normalize_id(text,integer,integer)": {
        "id": ("text", ID), "digits": ("int", INT), "min_letters": ("int", INT),
    },
    "idsql.generate_id(text)": {"prefix": ("text", PREFIX)},
    "idsql.bulk_generate_ids(text,integer)": {"prefix": ("text", PREFIX), "n": ("int", INT)},
    "idsql.current_id(text)": {"prefix": ("text", PREFIX)},
    "idsql.reset_sequence(text,text)": {"prefix": ("text", PREFIX), "last_id": ("text", ID)},
    "idsql.configure_prefix(text,text,integer,integer)": {
        "prefix": ("text", PREFIX), "mode": ("text", words("gapless", "fast")),
        "digits": ("int", INT), "min_letters": ("int", INT),
    },
    "idsql.sync_prefix(text,regclass,name)": {
        "prefix": ("text", PREFIX), "source": ("regclass", TABLE), "id_column": ("name", COLUMN),
    },
    "idsql.prefix_stats()": {},
    "idsql.id_health_check()": {},
    "idsql.initialize_table(regclass,name,bigint)": {
        "tbl": ("regclass", TABLE), "id_column": ("name", COLUMN), "initial_value": ("bigint", BIGINT),
    },
    "idsql.next_id(regclass)": {"tbl": ("regclass", TABLE)},
    "idsql.insert_with_retry(regclass,jsonb,integer)": {
        "tbl": ("regclass", TABLE), "data": ("jsonb", st.one_of(ROW, JSON)), "retry_attempts": ("int", INT),
    },
    "idsql.initialize(regclass[])": {"tables": ("regclass[]", st.lists(TABLE, max_size=3))},
    "idsql.new_temp_id(regclass)": {"tbl": ("regclass", TABLE)},
    "idsql.is_temp_id(regclass,text)": {"tbl": ("regclass", TABLE), "id": ("text", ID)},
    "idsql.resolve_id(regclass,text)": {"tbl": ("regclass", TABLE), "id": ("text", ID)},
    "idsql.set_id_strategy(regclass,text,text)": {
        "tbl": ("regclass", TABLE), "strategy": ("text", words("client", "server")), "generator": ("text", GENERATOR),
    },
    "idsql.replace_id_everywhere(regclass,text,text)": {
        "tbl": ("regclass", TABLE), "old_id": ("text", ID), "new_id": ("text", ID),
    },
    "idsql.plan_replace_id(regclass,text)": {"tbl": ("regclass", TABLE), "old_id": ("text", ID)},
    "idsql.assign_server_id(regclass,text)": {"tbl": ("regclass", TABLE), "temp_id": ("text", ID)},
    "idsql.negotiate_ids(jsonb)": {"batch": ("jsonb", BATCH)},
    "idsql.enqueue_sync(regclass,text,text,jsonb,text)": {
        "model_type": ("regclass", TABLE), "model_id": ("text", ID),
        "operation": ("text", words("create", "update", "delete")), "payload": ("jsonb", JSON),
        "temporary_client_id": ("text", ID),
    },
    "idsql.claim_sync_batch(integer,integer)": {"n": ("int", INT), "max_attempts": ("int", INT)},
    "idsql.complete_sync(bigint,text)": {"id": ("bigint", BIGINT), "server_id": ("text", ID)},
    "idsql.fail_sync(bigint,text,boolean)": {
        "id": ("bigint", BIGINT), "error": ("text", st.one_of(HOSTILE, ANY_TEXT)), "conflict": ("boolean", BOOL),
    },
    "idsql.enable_late_reference_resolution(regclass,text)": {
        "tbl": ("regclass", TABLE), "mode": ("text", words("resolve", "reject")),
    },
    "idsql.disable_late_reference_resolution(regclass)": {"tbl": ("regclass", TABLE)},
    "idsql.enable_state_version(regclass,name,regclass,name,boolean)": {
        "tbl": ("regclass", TABLE), "version_column": ("name", COLUMN), "parent": ("regclass", TABLE),
        "parent_fk": ("name", COLUMN), "history": ("boolean", BOOL),
    },
    "idsql.disable_state_version(regclass)": {"tbl": ("regclass", TABLE)},
    "idsql.grant_access(regrole,boolean)": {"grantee": ("regrole", ROLE), "admin": ("boolean", BOOL)},
    "idsql.row_history(regclass,jsonb)": {"tbl": ("regclass", TABLE), "key": ("jsonb", KEY)},
    "idsql.row_history(regclass,jsonb,timestamp with time zone)": {
        "tbl": ("regclass", TABLE), "key": ("jsonb", KEY), "as_of": ("timestamptz", TIMESTAMP),
    },
    "idsql.children_as_of(regclass,jsonb,bigint)": {
        "tbl": ("regclass", TABLE), "parent_key": ("jsonb", KEY), "parent_version": ("bigint", BIGINT),
    },
    "idsql.children_as_of_time(regclass,jsonb,timestamp with time zone)": {
        "tbl": ("regclass", TABLE), "parent_key": ("jsonb", KEY), "as_of": ("timestamptz", TIMESTAMP),
    },
    "idsql.changes_between(regclass,jsonb,bigint,bigint)": {
        "root": ("regclass", TABLE), "root_key": ("jsonb", KEY),
        "from_version": ("bigint", BIGINT), "to_version": ("bigint", BIGINT),
    },
    "idsql.rollback_to_version(regclass,jsonb,bigint)": {
        "root": ("regclass", TABLE), "root_key": ("jsonb", KEY), "target_version": ("bigint", BIGINT),
    },
    "idsql.prune_history(regclass,integer)": {"root": ("regclass", TABLE), "keep_versions": ("int", INT)},
    "idsql.sequence_report(name[])": {"schemas": ("name[]", SCHEMAS)},
    "idsql.fix_sequence(regclass,name,bigint,boolean)": {
        "tbl": ("regclass", TABLE), "col": ("name", COLUMN), "margin": ("bigint", BIGINT),
        "allow_backward": ("boolean", BOOL),
    },
    "idsql.fix_all_sequences_report(name[],bigint,boolean,boolean)": {
        "schemas": ("name[]", SCHEMAS), "margin": ("bigint", BIGINT), "allow_backward": ("boolean", BOOL),
        "dry_run": ("boolean", BOOL),
    },
    "idsql.fix_all_sequences(name[],bigint,boolean,boolean)": {
        "schemas": ("name[]", SCHEMAS), "margin": ("bigint", BIGINT), "allow_backward": ("boolean", BOOL),
        "dry_run": ("boolean", BOOL),
    },
}  # fmt: skip

# Routines that must leave every row as it was, whatever they are given.
READ_ONLY = {
    "format_id", "parse_id", "is_valid_id", "increment_id", "normalize_id", "current_id", "prefix_stats",
    "id_health_check", "is_temp_id", "resolve_id", "plan_replace_id", "row_history", "children_as_of",
    "children_as_of_time",
    "changes_between", "sequence_report",
}  # fmt: skip

ALLOWED_CLASSES = ("ID", "22", "23", "42")
# A syntax error means text reached the parser as SQL; an undefined function means the call named
# an argument the routine does not have (a wrong strategy here, which would test nothing) or the
# routine called what is not there. Neither is ever right.
NEVER = {"42601", "42883"}

PUBLIC_ROUTINES = """
SELECT p.oid::regprocedure::text,
       (p.proargnames[1:p.pronargs - p.pronargdefaults])::text[]
  FROM pg_proc p
 WHERE p.pronamespace = 'idsql'::regnamespace AND p.proname !~ '^(_|tg_)'
 ORDER BY 1
"""

_ran: dict[str, int] = {}
_outcomes: Counter[tuple[str, str]] = Counter()


@pytest.fixture
def hostile_db(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True) as c:
        names = {
            "schema": sql.Identifier(SCHEMA),
            **{k: _qualified(v) for k, v in [("t_ids", T_IDS), ("t_serial", T_SERIAL), ("t_source", T_SOURCE),
                                              ("t_parent", T_PARENT), ("t_child", T_CHILD), ("t_root", T_ROOT),
                                              ("t_leaf", T_LEAF)]},
            **{k: sql.Identifier(v) for k, v in [("c_note", C_NOTE), ("c_parent", C_PARENT), ("c_root", C_ROOT),
                                                  ("c_val", C_VAL), ("c_code", C_CODE)]},
            **{k: sql.Literal(_regclass_text(v)) for k, v in [("l_parent", T_PARENT), ("l_root", T_ROOT),
                                                               ("l_leaf", T_LEAF)]},
        }  # fmt: skip
        c.execute(FIXTURE.format(**names))
        # A hang would be a finding too: no call here should take long.
        c.execute("SET statement_timeout = '60s'")
        yield c


def _fingerprint_query(conn: psycopg.Connection[Any]) -> sql.Composed:
    """One query hashing every row of the user tables and idsql's own, and the user tables' catalog."""
    tables = conn.execute(
        """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2
        """
    ).fetchall()
    parts = [
        sql.SQL("(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {} x)").format(
            sql.Identifier(schema, table)
        )
        for schema, table in tables
    ]
    catalog = sql.SQL(
        "(SELECT md5(string_agg(concat_ws('/', c.oid, a.attname, a.atttypid, t.tgname, t.tgenabled), ','"
        " ORDER BY c.oid, a.attnum, t.tgname))"
        "   FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
        "   LEFT JOIN pg_trigger t ON t.tgrelid = c.oid"
        "  WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)"
        "    AND c.relkind IN ('r', 'p'))"
    )
    return sql.SQL("SELECT ARRAY[{}]").format(sql.SQL(", ").join([*parts, catalog]))


def _state(conn: psycopg.Connection[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    row = conn.execute(_fingerprint_query(conn)).fetchone()
    assert row is not None
    victim = conn.execute("SELECT id, note FROM public.victim ORDER BY id").fetchall()
    return row[0], victim


def _call(signature: str, args: dict[str, tuple[str, Any]]) -> tuple[sql.Composable, list[Any]]:
    name = signature.split("(", 1)[0].split(".", 1)[1]
    given_args = [
        sql.SQL("{} => %s::{}").format(sql.Identifier(arg), sql.SQL(pgtype))  # type: ignore[arg-type]
        for arg, (pgtype, _) in args.items()
    ]
    values = [Jsonb(v) if pgtype == "jsonb" and v is not None else v for pgtype, v in args.values()]
    if name == "fix_all_sequences":
        return sql.SQL("CALL idsql.{}({})").format(sql.Identifier(name), sql.SQL(", ").join(given_args)), values
    query = sql.SQL("SELECT count(*) FROM (SELECT * FROM idsql.{}({}) LIMIT 100) r").format(
        sql.Identifier(name), sql.SQL(", ").join(given_args)
    )
    return query, values


def _cast_error(conn: psycopg.Connection[Any], args: dict[str, tuple[str, Any]]) -> set[str]:
    """SQLSTATEs PostgreSQL itself raises when casting the arguments, before idsql sees them."""
    codes = set()
    for pgtype, value in args.values():
        if pgtype.startswith("regclass") and value is not None:
            try:
                conn.execute(sql.SQL("SELECT %s::{}").format(sql.SQL(pgtype)), (value,))  # type: ignore[arg-type]
            except psycopg.Error as exc:
                codes.add(exc.sqlstate or "")
    return codes


def _arguments(signature: str, required: list[str]) -> st.SearchStrategy[dict[str, tuple[str, Any]]]:
    """Each argument a value from its strategy or (one time in four) NULL; those with a default may be left out."""
    fields = {
        arg: st.one_of(strategy, strategy, strategy, st.none()).map(lambda v, t=pgtype: (t, v))
        for arg, (pgtype, strategy) in STRATEGIES[signature].items()
    }
    return st.fixed_dictionaries(
        {a: f for a, f in fields.items() if a in required},
        optional={a: f for a, f in fields.items() if a not in required},
    )


def test_every_public_routine_has_a_fuzz_strategy(db_routines: dict[str, list[str]]) -> None:
    missing = sorted(set(db_routines) - set(STRATEGIES))
    assert missing == [], f"add a STRATEGIES entry for {missing} in tests/test_hostile_input.py"
    assert sorted(set(STRATEGIES) - set(db_routines)) == [], "STRATEGIES names routines that no longer exist"


@pytest.fixture
def db_routines(dsn: str) -> dict[str, list[str]]:
    """Every public routine of the catalog → the names of its arguments without a default."""
    with psycopg.connect(dsn, autocommit=True) as c:
        return {sig: required or [] for sig, required in c.execute(PUBLIC_ROUTINES).fetchall()}


WITH_ARGUMENTS = sum(1 for s in STRATEGIES.values() if s)
PER_ROUTINE = math.ceil(CASES / WITH_ARGUMENTS)


@pytest.mark.parametrize("signature", sorted(STRATEGIES))
def test_every_public_routine_survives_hostile_input(
    hostile_db: psycopg.Connection[Any], db_routines: dict[str, list[str]], signature: str
) -> None:
    name = signature.split("(", 1)[0].split(".", 1)[1]
    conn = hostile_db
    arguments = STRATEGIES[signature]
    if signature not in db_routines:
        pytest.fail(f"{signature} is not in the catalog: update STRATEGIES")

    # NULL in every argument, always tried: the first thing a careless caller sends.
    @example(args={a: (t, None) for a, (t, _) in arguments.items()})
    @example(args={a: (t, None) for a, (t, _) in arguments.items() if a in db_routines[signature]})
    @settings(max_examples=PER_ROUTINE if arguments else 1)
    @given(args=_arguments(signature, db_routines[signature]))
    def run(args: dict[str, tuple[str, Any]]) -> None:
        _ran[signature] = _ran.get(signature, 0) + 1
        before, victim = _state(conn)
        query, values = _call(signature, args)
        code = None
        try:
            conn.execute(query, values)
        except psycopg.Error as exc:
            code = exc.sqlstate or ""
            assert not conn.broken, f"{signature} {args!r}: the connection broke ({exc})"
            if code not in _cast_error(conn, args):
                assert code[:2] in ALLOWED_CLASSES and code not in NEVER, f"{signature} {args!r} → {code}: {exc}"
        _outcomes[signature, code or "ok"] += 1
        after, victim_after = _state(conn)
        assert victim_after == victim, f"{signature} {args!r} changed public.victim"
        if code is not None or name in READ_ONLY:
            assert after == before, f"{signature} {args!r} ({code or 'read only'}) changed rows"
        if code is None and name == "fix_all_sequences_report" and args.get("dry_run", ("", False))[1]:
            assert after == before, f"a dry run changed rows: {args!r}"

    run()


def test_every_public_routine_ran_enough_fuzz_cases(request: pytest.FixtureRequest) -> None:
    """Runs last in this module: the cases drawn add up to the profile's budget."""
    if len(_ran) < len(STRATEGIES):
        pytest.skip("only part of this module was selected: the case budget is counted over all routines")
    total = sum(_ran.values())
    lines = [f"hostile input: {total} cases over {len(_ran)} routines (profile budget {CASES})"]
    for signature in sorted(_ran):
        codes = ", ".join(f"{code} {n}" for (sig, code), n in sorted(_outcomes.items()) if sig == signature)
        lines.append(f"  {signature}: {codes}")
    soak.report("Hostile input", lines)
    assert total >= CASES, _ran


# Found by this fuzzer: a NULL table, or an OID cast to regclass that names nothing ('-', '0',
# '999999'), reached format('... ON %s') and came back as a syntax error (42601).
@pytest.mark.parametrize("table", [None, "-", "0", "999999"])
def test_enable_late_reference_resolution_refuses_null_and_missing_tables(dsn: str, table: str | None) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        with pytest.raises(psycopg.Error) as raised:
            c.execute("SELECT idsql.enable_late_reference_resolution(%s::regclass)", (table,))
        assert raised.value.sqlstate == ("22004" if table is None else "42P01")


@pytest.mark.parametrize("table", [None, "-", "0", "999999"])
def test_disable_late_reference_resolution_refuses_null_and_missing_tables(dsn: str, table: str | None) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        with pytest.raises(psycopg.Error) as raised:
            c.execute("SELECT idsql.disable_late_reference_resolution(%s::regclass)", (table,))
        assert raised.value.sqlstate == ("22004" if table is None else "42P01")


# Found by this fuzzer once its strategy named the argument right: '-' and bare numbers pass as
# regrole without naming a role, and grant_access spliced their text into GRANT (42601).
@pytest.mark.parametrize("role", [None, "-", "0", "999999"])
def test_grant_access_refuses_null_and_missing_roles(dsn: str, role: str | None) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        with pytest.raises(psycopg.Error) as raised:
            c.execute("SELECT idsql.grant_access(%s::regrole)", (role,))
        assert raised.value.sqlstate == ("22004" if role is None else "42704")


# Found by this fuzzer: a batch entry whose table names a missing schema ('0.0') came back as
# 3F000 from the cast inside negotiate_ids; a missing table is 42P01, whatever part is missing.
@pytest.mark.parametrize("table", ["0.0", "no_such_schema.project", "no_such_table", 0, 999999])
def test_negotiate_ids_refuses_a_missing_table_with_42p01(dsn: str, table: str | int) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        with pytest.raises(psycopg.Error) as raised:
            c.execute("SELECT idsql.negotiate_ids(%s)", (Jsonb([{"table": table, "temp_id": "tmp_x"}]),))
        assert raised.value.sqlstate == "42P01"
