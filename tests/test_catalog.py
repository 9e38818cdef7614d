"""Contract tests over the catalog: what every idsql object promises, checked on a real install."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

import pyidsql
import pyidsql.aio
from pyidsql import _resources

TESTS = Path(__file__).parent

# SECURITY DEFINER functions, each with the reason it needs the owner's rights.
SECURITY_DEFINER_ALLOWED: dict[str, str] = {
    "idsql.generate_id(text)": (
        "a role with usage only draws IDs, but may not write idsql.prefix_counter (it could move a counter back)"
    ),
    "idsql.bulk_generate_ids(text,integer)": "the same as generate_id",
    "idsql._state_version_noop(oid,jsonb)": (
        "a writer of a tracked table marks the rows it wrote unchanged, in its own transaction only, "
        "and needs no privilege on idsql.state_version_noop (a role granted usage before 0.2.0 has none)"
    ),
    "idsql._state_version_unmark(oid,jsonb)": "the same as _state_version_noop, which it undoes",
}

# Routines without SET search_path, each with the reason. PostgreSQL refuses COMMIT in a procedure
# that has a SET clause, so a committing procedure cannot pin it: its body must instead name only
# schema-qualified objects (see test_unpinned_routines_qualify_every_name).
UNPINNED_ALLOWED: dict[str, str] = {
    "idsql.fix_all_sequences(name[],bigint,boolean,boolean)": (
        "commits after each sequence; calls only pinned idsql helpers and OPERATOR(pg_catalog.+)"
    ),
}

PURE = {"format_id", "parse_id", "is_valid_id", "increment_id", "normalize_id"}


@pytest.fixture
def db(dsn: str) -> Any:
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


def _functions(db: psycopg.Connection[Any]) -> list[tuple[str, str, list[str] | None, bool, str, str | None]]:
    return db.execute(
        """
        SELECT p.proname, p.oid::regprocedure::text, p.proconfig, p.prosecdef, p.provolatile::text,
               obj_description(p.oid, 'pg_proc')
          FROM pg_proc p
         WHERE p.pronamespace = 'idsql'::regnamespace
         ORDER BY 1, 2
        """
    ).fetchall()


def public_names(db: psycopg.Connection[Any]) -> set[str]:
    return {name for name, *_ in _functions(db) if not name.startswith(("_", "tg_"))}


# Functions with a standard SQL body (RETURN expr): PostgreSQL binds the body to its objects when
# the function is created, so no search_path applies when it runs, and a SET clause would stop the
# planner from inlining it, which is why it has that body.
INLINED: dict[str, str] = {
    "idsql._format_ordinal(text,bigint,integer,integer)": "the formatting of every generate_id",
    "idsql.insert_with_retry(regclass,jsonb,integer)": "one PL/pgSQL call per insert, not two",
}


def _standard_bodies(db: psycopg.Connection[Any]) -> set[str]:
    rows = db.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p"
        " WHERE p.pronamespace = 'idsql'::regnamespace AND p.prosqlbody IS NOT NULL"
    ).fetchall()
    return {sig for (sig,) in rows}


def test_every_function_pins_search_path(db: psycopg.Connection[Any]) -> None:
    unpinned = {
        sig for _, sig, config, *_ in _functions(db) if not any(c.startswith("search_path=") for c in config or [])
    }
    assert unpinned == set(UNPINNED_ALLOWED) | set(INLINED)
    assert set(INLINED) <= _standard_bodies(db)


def test_inlined_functions_are_inlined(db: psycopg.Connection[Any]) -> None:
    """The planner replaces each call by its body, where generate_id calls it: from table columns."""
    plan = db.execute(
        "EXPLAIN (VERBOSE, COSTS OFF) SELECT idsql._format_ordinal(c.prefix, c.last_value, c.digits, c.min_letters)"
        " FROM idsql.prefix_counter AS c"
    ).fetchall()
    text = "\n".join(line for (line,) in plan)
    assert "chr(" in text and "_format_ordinal" not in text, text
    plan = db.execute(
        "EXPLAIN (VERBOSE, COSTS OFF) SELECT idsql.insert_with_retry('idsql.table_counter', '{}')"
    ).fetchall()
    text = "\n".join(line for (line,) in plan)
    assert "idsql._insert_with_retry(" in text and "idsql.insert_with_retry(" not in text, text
    assert db.execute(
        "SELECT idsql._format_ordinal('CUS', 1, 4, 3), idsql._format_ordinal(NULL, 1, 4, 3)"
    ).fetchone() == (
        "CUS-AAA0001",
        None,
    )


def test_unpinned_routines_qualify_every_name(db: psycopg.Connection[Any]) -> None:
    """Every call in an unpinned body is schema-qualified, and it uses no bare operator."""
    for sig in UNPINNED_ALLOWED:
        row = db.execute("SELECT prosrc FROM pg_proc WHERE oid = %s::regprocedure", (sig,)).fetchone()
        assert row is not None
        code = re.sub(r"/\*.*?\*/|--[^\n]*|'[^']*'", "", row[0], flags=re.S)
        calls = re.findall(r"(?<![\w.])([a-z_]\w*)\s*\(", code, flags=re.I)
        assert [c for c in calls if c.upper() not in {"OPERATOR"}] == [], sig
        code = re.sub(r"OPERATOR\(pg_catalog\.[^)]+\)|:=|SELECT \*", "", code)
        assert re.findall(r"[-+*/<>=!~%^&|@#]+", code) == [], sig


def test_every_function_has_a_comment(db: psycopg.Connection[Any]) -> None:
    assert [sig for _, sig, *_, comment in _functions(db) if not comment] == []


def test_security_definer_only_where_allowed(db: psycopg.Connection[Any]) -> None:
    definers = {sig for _, sig, _, secdef, *_ in _functions(db) if secdef}
    assert definers == set(SECURITY_DEFINER_ALLOWED)


def test_pure_functions_are_immutable(db: psycopg.Connection[Any]) -> None:
    volatility = {name: vol for name, _, _, _, vol, _ in _functions(db)}
    assert {name: volatility[name] for name in PURE} == dict.fromkeys(PURE, "i")


def test_every_public_function_has_sync_and_async_wrappers(db: psycopg.Connection[Any]) -> None:
    names = public_names(db)
    assert names, "no public function found"
    assert sorted(n for n in names if not callable(getattr(pyidsql, n, None))) == []
    assert sorted(n for n in names if not callable(getattr(pyidsql.aio, n, None))) == []
    assert set(pyidsql.__all__) >= names


def _without_conn(function: Any) -> inspect.Signature:
    signature = inspect.signature(function)
    params = list(signature.parameters.values())
    if params and params[0].name == "conn":
        params = params[1:]
    return signature.replace(parameters=params, return_annotation=inspect.Signature.empty)


def _wrappers(module: Any) -> dict[str, Any]:
    return {name: getattr(module, name) for name in module.__all__ if hasattr(getattr(module, name), "steps")}


def test_every_sync_wrapper_has_its_async_twin() -> None:
    """Same name, arguments, defaults and docstring; the twin awaits, a listener iterates asynchronously."""
    sync = _wrappers(pyidsql)
    assert len(sync) >= 40
    for name, function in sync.items():
        twin = getattr(pyidsql.aio, name, None)
        assert twin is not None, f"pyidsql.aio has no {name}"
        assert _without_conn(twin) == _without_conn(function), name
        assert twin.__doc__ == function.__doc__ and function.__doc__, name
        assert twin.steps is function.steps, name  # run from the same definition, not a copy
        returns = inspect.signature(function).return_annotation
        if returns.startswith("Iterator["):
            assert inspect.signature(twin).return_annotation == "Async" + returns, name
        else:
            assert inspect.iscoroutinefunction(twin), name
            assert inspect.signature(twin).return_annotation == returns, name
        assert inspect.signature(twin).parameters["conn"].annotation != "Connectable", name
    manager, twin_manager = pyidsql.IDManager, pyidsql.aio.AsyncIDManager
    methods = [n for n, m in vars(manager).items() if hasattr(m, "steps")]
    assert sorted(methods) == ["initialize", "initialize_table", "insert_with_retry", "next_id"]
    for name in methods:
        sync_method, async_method = getattr(manager, name), getattr(twin_manager, name)
        assert inspect.signature(async_method) == inspect.signature(sync_method), name
        assert async_method.__doc__ == sync_method.__doc__ and inspect.iscoroutinefunction(async_method), name


def test_every_public_function_has_a_test(db: psycopg.Connection[Any]) -> None:
    source = "\n".join(p.read_text() for p in TESTS.glob("test_*.py"))
    untested = sorted(n for n in public_names(db) if not re.search(rf"def test_{n}_?\w*\(", source))
    assert untested == []


def test_every_table_and_column_has_a_comment(db: psycopg.Connection[Any]) -> None:
    missing = db.execute(
        """
        SELECT c.relname || coalesce('.' || a.attname, '')
          FROM pg_class c
          LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relnamespace = 'idsql'::regnamespace AND c.relkind IN ('r', 'p')
           AND (obj_description(c.oid, 'pg_class') IS NULL
                OR (a.attname IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))
        """
    ).fetchall()
    assert missing == []


def test_every_sql_file_is_in_the_manifest() -> None:
    listed = {p.resolve() for p in _resources.sql_files()}
    # releases/ is generated, upgrades/ and installer/ are wrapped around it, not installed.
    wrappers = {_resources.SQL_DIR / d for d in ("releases", "upgrades", "installer")}
    on_disk = {p.resolve() for p in _resources.SQL_DIR.rglob("*.sql") if p.parent not in wrappers}
    assert sorted(map(str, on_disk - listed)) == []
    assert sorted(map(str, listed - on_disk)) == []


# What a file in each kind of folder creates: exactly one object, named after the file.
_CREATES = {
    "functions": r"CREATE OR REPLACE FUNCTION idsql\.(\w+)\(",
    "procedures": r"CREATE OR REPLACE PROCEDURE idsql\.(\w+)\(",
    "tables": r"CREATE (?:UNLOGGED )?TABLE IF NOT EXISTS idsql\.(\w+)",
    "triggers": r"CREATE (?:OR REPLACE )?TRIGGER (?:idsql_)?(\w+)",
    "sequences": r"CREATE SEQUENCE IF NOT EXISTS idsql\.(\w+)",
}


def test_one_object_per_file_named_after_it() -> None:
    checked = 0
    for kind, pattern in _CREATES.items():
        for path in _resources.SQL_DIR.glob(f"*/{kind}/*.sql"):
            assert re.findall(pattern, path.read_text()) == [path.stem], path
            checked += 1
    assert checked > 90


def test_sql_is_laid_out_by_capability() -> None:
    """Every installed source sits in its capability's folder, in a folder of its kind, none crowded."""
    kinds = set(_CREATES)
    for path in _resources.sql_files():
        rel = path.relative_to(_resources.SQL_DIR)
        assert rel.parts[0] in _resources.CAPABILITIES, rel
        assert len(rel.parts) == 2 or rel.parts[1] in kinds, rel
    top = {p.name for p in _resources.SQL_DIR.iterdir() if p.is_dir()}
    assert top == {*_resources.CAPABILITIES, "installer", "upgrades", "releases"}
    for folder in _resources.SQL_DIR.rglob("*"):
        if folder.is_dir():
            assert len(list(folder.iterdir())) <= 30, folder
