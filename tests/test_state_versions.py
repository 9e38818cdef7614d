"""State versions (spec/state-versions.md): counting, optimistic locking, history, as-of, diff, rollback.

Counting is per transaction, so the tests that depend on where transactions end use their own
connections (``connect``) and commit; the others run on ``conn`` in both of its modes.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

import pyidsql
import pyidsql.aio
import pyidsql.install
from pyidsql import errors

Connect = Callable[..., psycopg.Connection[Any]]

# The original's three levels: session -> extracted entity -> entity attribute.
SCHEMA = """
CREATE TABLE chat_session (
    session_id text PRIMARY KEY,
    state_version bigint NOT NULL DEFAULT 1,
    updated_at timestamptz
);
CREATE TABLE entity (
    entity_id text PRIMARY KEY,
    session_id text NOT NULL REFERENCES chat_session ON DELETE CASCADE,
    name text,
    value text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    state_version bigint NOT NULL DEFAULT 1
);
CREATE TABLE entity_attribute (
    attribute_id text PRIMARY KEY,
    entity_id text NOT NULL REFERENCES entity ON DELETE CASCADE,
    name text,
    value text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Foreign keys with an index, as most are: children_as_of then reads the rows under a parent now
-- (test_children_as_of_reads_the_same_rows_without_the_table reads without).
CREATE INDEX entity_session_id_idx ON entity (session_id);
CREATE INDEX entity_attribute_entity_id_idx ON entity_attribute (entity_id);
SELECT idsql.enable_state_version('chat_session', history => true);
SELECT idsql.enable_state_version('entity', parent => 'chat_session', history => true);
SELECT idsql.enable_state_version('entity_attribute', version_column => NULL, parent => 'entity', history => true);
"""

S = {"session_id": "S"}


def _setup(c: psycopg.Connection[Any]) -> None:
    c.execute(SCHEMA)


def _session(c: psycopg.Connection[Any], session_id: str = "S") -> int:
    row = c.execute("SELECT state_version FROM chat_session WHERE session_id = %s", (session_id,)).fetchone()
    assert row is not None
    return int(row[0])


def _entities(c: psycopg.Connection[Any]) -> dict[str, int]:
    return {k: v for k, v in c.execute("SELECT entity_id, state_version FROM entity ORDER BY 1").fetchall()}


def _history_rows(c: psycopg.Connection[Any]) -> int:
    row = c.execute("SELECT count(*) FROM idsql.row_version").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def db(connect: Connect) -> psycopg.Connection[Any]:
    """An autocommit connection with the three tracked tables: each statement is a transaction."""
    c = connect(autocommit=True)
    _setup(c)
    return c


def _initial(c: psycopg.Connection[Any]) -> None:
    with c.transaction():
        c.execute("INSERT INTO chat_session (session_id) VALUES ('S')")
        c.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'Alice'), ('B', 'S', 'Bob')")


# --- the original worked example ----------------------------------------------------------------


def test_enable_state_version_worked_example_in_sql(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    assert (_session(db), _entities(db)) == (1, {"A": 1, "B": 1})
    db.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('C', 'S', 'Carol')")
    assert (_session(db), _entities(db)) == (2, {"A": 1, "B": 1, "C": 1})
    db.execute("UPDATE entity SET name = 'Alice Smith' WHERE entity_id = 'A'")
    assert (_session(db), _entities(db)) == (3, {"A": 2, "B": 1, "C": 1})
    db.execute("DELETE FROM entity WHERE entity_id = 'B'")
    assert (_session(db), _entities(db)) == (4, {"A": 2, "C": 1})

    as_of_2 = db.execute(
        "SELECT e ->> 'entity_id', e ->> 'name', (e ->> 'state_version')::int"
        " FROM idsql.children_as_of('entity', '{\"session_id\": \"S\"}', 2) AS e"
    ).fetchall()
    assert as_of_2 == [("A", "Alice", 1), ("B", "Bob", 1), ("C", "Carol", 1)]

    diff = db.execute(
        "SELECT table_name::text, key, change, old_data ->> 'name', new_data ->> 'name', changed_fields"
        " FROM idsql.changes_between('chat_session', '{\"session_id\": \"S\"}', 2, 4)"
    ).fetchall()
    assert diff == [
        ("entity", {"entity_id": "A"}, "changed", "Alice", "Alice Smith", ["name"]),
        ("entity", {"entity_id": "B"}, "removed", "Bob", None, None),
    ]

    back = db.execute("SELECT idsql.rollback_to_version('chat_session', '{\"session_id\": \"S\"}', 2)")
    assert back.fetchone() == (5,)
    assert _session(db) == 5
    rows = db.execute("SELECT entity_id, name, state_version FROM entity ORDER BY 1").fetchall()
    # A gets its old values back as a new version of its own; B comes back; C never changed.
    assert rows == [("A", "Alice", 3), ("B", "Bob", 1), ("C", "Carol", 1)]
    # The rollback is a version like any other: version 5 reads like version 2.
    again = db.execute(
        "SELECT e ->> 'entity_id', e ->> 'name' FROM idsql.children_as_of('entity', '{\"session_id\": \"S\"}', 5) AS e"
    ).fetchall()
    assert again == [("A", "Alice"), ("B", "Bob"), ("C", "Carol")]


def test_rollback_to_version_worked_example_through_python(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('C', 'S', 'Carol')")
    db.execute("UPDATE entity SET name = 'Alice Smith' WHERE entity_id = 'A'")
    db.execute("DELETE FROM entity WHERE entity_id = 'B'")
    assert (_session(db), _entities(db)) == (4, {"A": 2, "C": 1})

    as_of = pyidsql.children_as_of(db, "entity", S, 2)
    assert [(e["entity_id"], e["state_version"]) for e in as_of] == [("A", 1), ("B", 1), ("C", 1)]

    diff = pyidsql.changes_between(db, "chat_session", S, 2, 4)
    assert [(d.table_name, d.key, d.change, d.changed_fields) for d in diff] == [
        ("entity", {"entity_id": "A"}, "changed", ["name"]),
        ("entity", {"entity_id": "B"}, "removed", None),
    ]
    assert diff[1].old_data is not None and diff[1].old_data["name"] == "Bob"

    history = pyidsql.row_history(db, "entity", {"entity_id": "A"})
    assert [(h.state_version, h.root_version, h.operation, h.row_data["name"]) for h in history] == [
        (1, 1, "INSERT", "Alice"),
        (2, 3, "UPDATE", "Alice Smith"),
    ]

    assert pyidsql.rollback_to_version(db, "chat_session", S, 2) == 5
    assert (_session(db), _entities(db)) == (5, {"A": 3, "B": 1, "C": 1})
    assert [e["name"] for e in pyidsql.children_as_of(db, "entity", S, 5)] == ["Alice", "Bob", "Carol"]
    # A rollback can itself be rolled back: back to version 4, as version 6.
    assert pyidsql.rollback_to_version(db, "chat_session", S, 4) == 6
    assert _entities(db) == {"A": 4, "C": 1}
    assert db.execute("SELECT name FROM entity WHERE entity_id = 'A'").fetchone() == ("Alice Smith",)


# --- counting -------------------------------------------------------------------------------------


def test_enable_state_version_batch_in_one_transaction_counts_once_per_row(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    with db.transaction():
        db.execute("UPDATE entity SET name = 'A1' WHERE entity_id = 'A'")
        db.execute("UPDATE entity SET name = 'A2' WHERE entity_id = 'A'")
        db.execute("UPDATE entity SET value = 'x' WHERE entity_id IN ('A', 'B')")
        db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, name) VALUES ('a1', 'A', 'colour')")
        db.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('C', 'S', 'Carol')")
        db.execute("UPDATE entity SET name = 'C2' WHERE entity_id = 'C'")
    assert (_session(db), _entities(db)) == (2, {"A": 2, "B": 2, "C": 1})
    # One committed version per transaction in the row's history, holding its last state.
    history = pyidsql.row_history(db, "entity", {"entity_id": "A"})
    assert [(h.state_version, h.row_data["name"]) for h in history] == [(1, "Alice"), (2, "A2")]


def test_enable_state_version_savepoints_count_once(db: psycopg.Connection[Any]) -> None:
    # Subtransactions have xids of their own: a row written in one still counted in this transaction.
    _initial(db)
    with db.transaction():
        with db.transaction():
            db.execute("UPDATE entity SET name = 'A1' WHERE entity_id = 'A'")
            db.execute("UPDATE entity SET name = 'A2' WHERE entity_id = 'A'")
        with db.transaction():
            db.execute("UPDATE entity SET name = 'A3' WHERE entity_id = 'A'")
        with pytest.raises(psycopg.errors.DivisionByZero), db.transaction():
            db.execute("UPDATE entity SET name = 'lost' WHERE entity_id = 'B'")
            db.execute("SELECT 1 / 0")
        db.execute("UPDATE entity SET name = 'B1' WHERE entity_id = 'B'")
    assert (_session(db), _entities(db)) == (2, {"A": 2, "B": 2})


def test_enable_state_version_attributes_count_for_entity_and_session(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, name, value) VALUES ('a1', 'A', 'c', 'red')")
    assert (_session(db), _entities(db)) == (2, {"A": 2, "B": 1})
    db.execute("UPDATE entity_attribute SET value = 'blue' WHERE attribute_id = 'a1'")
    assert (_session(db), _entities(db)) == (3, {"A": 3, "B": 1})
    db.execute("DELETE FROM entity_attribute WHERE attribute_id = 'a1'")
    assert (_session(db), _entities(db)) == (4, {"A": 4, "B": 1})
    as_of = pyidsql.children_as_of(db, "entity_attribute", {"entity_id": "A"}, 3)
    assert [(a["attribute_id"], a["value"]) for a in as_of] == [("a1", "blue")]
    assert pyidsql.children_as_of(db, "entity_attribute", {"entity_id": "A"}, 4) == []


def test_enable_state_version_moving_a_child_counts_for_both_parents(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("INSERT INTO chat_session (session_id) VALUES ('T')")
    db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, name) VALUES ('a1', 'A', 'colour')")
    before = (_session(db, "S"), _session(db, "T"), _entities(db))
    assert before == (2, 1, {"A": 2, "B": 1})
    db.execute("UPDATE entity SET session_id = 'T' WHERE entity_id = 'B'")
    assert (_session(db, "S"), _session(db, "T"), _entities(db)) == (3, 2, {"A": 2, "B": 2})
    db.execute("UPDATE entity_attribute SET entity_id = 'B' WHERE attribute_id = 'a1'")
    assert (_session(db, "S"), _session(db, "T"), _entities(db)) == (4, 3, {"A": 3, "B": 3})
    # As-of under S: B is there at version 2, gone at 3; under T it appears at 2.
    assert [e["entity_id"] for e in pyidsql.children_as_of(db, "entity", S, 2)] == ["A", "B"]
    assert [e["entity_id"] for e in pyidsql.children_as_of(db, "entity", S, 3)] == ["A"]
    assert [e["entity_id"] for e in pyidsql.children_as_of(db, "entity", {"session_id": "T"}, 2)] == ["B"]


def test_enable_state_version_noop_updates_count_for_nothing(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, name) VALUES ('a1', 'A', 'colour')")
    assert (_session(db), _entities(db)) == (2, {"A": 2, "B": 1})
    stamp = db.execute("SELECT updated_at FROM entity WHERE entity_id = 'A'").fetchone()
    cur = db.execute("UPDATE entity SET name = name, state_version = state_version")
    assert cur.rowcount == 2  # every row it matched, as without triggers
    # Bookkeeping only, each column alone and both, with and without a version column.
    for change in (
        "updated_at = now() + interval '1 day'",
        "created_at = now() - interval '1 day'",
        "updated_at = now() + interval '1 day', created_at = now()",
    ):
        assert db.execute(f"UPDATE entity SET {change}").rowcount == 2, change
        assert db.execute(f"UPDATE entity_attribute SET {change}").rowcount == 1, change
    db.execute("UPDATE entity_attribute SET name = 'colour'")
    db.execute("UPDATE chat_session SET updated_at = updated_at")
    assert (_session(db), _entities(db)) == (2, {"A": 2, "B": 1})
    assert db.execute("SELECT updated_at FROM entity WHERE entity_id = 'A'").fetchone() == stamp
    # A no-op earlier in a transaction does not hide a real change after it.
    with db.transaction():
        db.execute("UPDATE entity SET name = name WHERE entity_id = 'A'")
        db.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")
    assert (_session(db), _entities(db)) == (3, {"A": 3, "B": 1})


@pytest.mark.parametrize("stored", ["compressed", "out of line"])
def test_enable_state_version_noop_of_a_large_value_counts_for_nothing(
    db: psycopg.Connection[Any], stored: str
) -> None:
    # A large value is stored compressed or out of line, but an UPDATE carries it in full: the
    # same value must still be a no-op, on a table with a row trigger (entity) and on one without
    # (note: no version column, no timestamps).
    db.execute(
        "CREATE TABLE note (note_id text PRIMARY KEY, session_id text NOT NULL REFERENCES chat_session, body text)"
    )
    db.execute(
        "SELECT idsql.enable_state_version('note', version_column => NULL, parent => 'chat_session', history => true)"
    )
    rng = random.Random(5)
    big = "x" * 6000 if stored == "compressed" else "".join(rng.choice("0123456789abcdef") for _ in range(6000))
    db.execute("INSERT INTO chat_session (session_id) VALUES ('S')")
    db.execute("INSERT INTO entity (entity_id, session_id, value) VALUES ('A', 'S', %s)", (big,))
    db.execute("INSERT INTO note (note_id, session_id, body) VALUES ('n', 'S', %s)", (big,))
    size = db.execute("SELECT pg_column_size(body) < octet_length(body) FROM note").fetchone()
    assert size == (stored == "compressed",)  # and out of line when not compressed: over 2 kB
    version, history = _session(db), _history_rows(db)
    assert db.execute("UPDATE entity SET value = %s", (big,)).rowcount == 1
    assert db.execute("UPDATE note SET body = %s", (big,)).rowcount == 1
    assert (_session(db), _entities(db), _history_rows(db)) == (version, {"A": 1}, history)
    # A real change of the large value still counts.
    assert db.execute("UPDATE note SET body = %s", (big + "!",)).rowcount == 1
    assert (_session(db), _history_rows(db)) == (version + 1, history + 2)  # the note and the session


def test_enable_state_version_sets_timestamps(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    created, updated = db.execute("SELECT created_at, updated_at FROM entity WHERE entity_id = 'A'").fetchone() or ()
    db.execute("UPDATE entity SET name = 'Ann', created_at = '2000-01-01' WHERE entity_id = 'A'")
    created2, updated2 = db.execute("SELECT created_at, updated_at FROM entity WHERE entity_id = 'A'").fetchone() or ()
    assert created2 == created  # kept
    assert updated2 > updated
    assert db.execute("SELECT updated_at IS NOT NULL FROM chat_session").fetchone() == (True,)


def test_enable_state_version_stale_version_fails_with_an_id_error(conn: psycopg.Connection[Any]) -> None:
    _setup(conn)
    conn.execute("INSERT INTO chat_session (session_id) VALUES ('S')")
    conn.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'Alice')")
    version = conn.execute("SELECT state_version FROM entity").fetchone()
    assert version is not None
    with pytest.raises(psycopg.Error) as info, conn.transaction():
        conn.execute("UPDATE entity SET name = 'x', state_version = %s WHERE entity_id = 'A'", (version[0] + 5,))
    assert info.value.sqlstate == "ID301"
    assert info.value.diag.message_primary == "stale state_version in update of public.entity"
    mapped = errors.translate(info.value)
    assert isinstance(mapped, errors.StaleVersion)
    assert mapped.hint is not None and mapped.hint.endswith(".")
    # Bulk and raw SQL alike: one stale row fails the whole statement.
    with pytest.raises(psycopg.Error) as info, conn.transaction():
        conn.execute("UPDATE entity SET state_version = 0")
    assert info.value.sqlstate == "ID301"
    # Setting it to the current value is the optimistic-lock pattern: it passes.
    conn.execute("UPDATE entity SET name = 'y', state_version = %s WHERE entity_id = 'A'", (version[0],))
    assert conn.execute("SELECT name FROM entity").fetchone() == ("y",)


def test_enable_state_version_stale_version_through_sqlalchemy(dsn: str) -> None:
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    try:
        with engine.begin() as c:
            c.exec_driver_sql(SCHEMA)
            c.exec_driver_sql("INSERT INTO chat_session (session_id) VALUES ('S')")
        with engine.connect() as c, pytest.raises(sa.exc.DBAPIError) as info:
            c.execute(sa.text("UPDATE chat_session SET state_version = 7"))
        assert isinstance(errors.translate(info.value), errors.StaleVersion)
    finally:
        engine.dispose()


def test_enable_state_version_bulk_update_counts_like_single_rows(db: psycopg.Connection[Any]) -> None:
    with db.transaction():
        db.execute("INSERT INTO chat_session (session_id) SELECT 'S' || g FROM generate_series(1, 3) AS g")
        db.execute(
            "INSERT INTO entity (entity_id, session_id, name)"
            " SELECT 'E' || g, 'S' || (g % 3 + 1), 'n' FROM generate_series(1, 300) AS g"
        )
    db.execute("UPDATE entity SET name = 'm' WHERE entity_id <> 'E1'")
    db.execute("UPDATE entity SET value = 'v'")
    assert db.execute("SELECT array_agg(DISTINCT state_version) FROM chat_session").fetchone() == ([3],)
    counts = dict(db.execute("SELECT state_version, count(*) FROM entity GROUP BY 1").fetchall())
    assert counts == {3: 299, 2: 1}
    # One history entry per changed row per statement, counted at the root version of its statement.
    rows = db.execute(
        "SELECT root_version, count(*) FROM idsql.row_version WHERE tbl = 'entity'::regclass GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [(1, 300), (2, 299), (3, 300)]


def test_enable_state_version_bulk_updates_each_parent_once_per_statement(db: psycopg.Connection[Any]) -> None:
    # Spec: at most one parent UPDATE per distinct parent per statement. pg_stat_xact_user_tables
    # counts the row versions each table got, in this transaction and in earlier ones of this
    # session whose counts were not sent yet: the difference across one statement is its own.
    with db.transaction():
        db.execute("INSERT INTO chat_session (session_id) SELECT 'S' || g FROM generate_series(1, 3) AS g")
        db.execute(
            "INSERT INTO entity (entity_id, session_id, name)"
            " SELECT 'E' || g, 'S' || (g % 3 + 1), 'n' FROM generate_series(1, 300) AS g"
        )
        db.execute(
            "INSERT INTO entity_attribute (attribute_id, entity_id, name)"
            " SELECT 'A' || g, 'E' || (g % 30 + 1), 'colour' FROM generate_series(1, 60) AS g"
        )

    def updates_by(statement: str) -> dict[str, int]:
        counts = (
            "SELECT relname::text, n_tup_upd FROM pg_stat_xact_user_tables"
            " WHERE relname IN ('chat_session', 'entity', 'entity_attribute')"
        )
        with db.transaction():
            before = dict(db.execute(counts).fetchall())
            db.execute(statement)
            return {t: n - before[t] for t, n in db.execute(counts).fetchall()}

    assert updates_by("UPDATE entity SET name = 'm'") == {"chat_session": 3, "entity": 300, "entity_attribute": 0}
    # 60 attributes of 30 entities: each entity once, and through them each session once.
    assert updates_by("UPDATE entity_attribute SET value = 'v'") == {
        "chat_session": 3,
        "entity": 30,
        "entity_attribute": 60,
    }
    assert db.execute("SELECT array_agg(DISTINCT state_version) FROM chat_session").fetchone() == ([3],)


# --- installing ------------------------------------------------------------------------------------


def test_enable_state_version_is_idempotent(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'idsql\\_state\\_version\\_%'"
    before = db.execute(triggers).fetchone()
    for _ in range(2):
        pyidsql.enable_state_version(db, "chat_session", history=True)
        pyidsql.enable_state_version(db, "entity", parent="chat_session", history=True)
    assert db.execute(triggers).fetchone() == before
    db.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")
    assert (_session(db), _entities(db)) == (2, {"A": 2, "B": 1})
    # Re-enabling does not record the rows again.
    assert db.execute("SELECT count(*) FROM idsql.row_version WHERE operation = 'BASELINE'").fetchone() == (0,)


def test_enable_and_disable_state_version_send_no_notice(connect: Connect) -> None:
    c = connect(autocommit=True)
    notices: list[str] = []
    c.add_notice_handler(lambda d: notices.append(f"{d.severity}: {d.message_primary}"))
    _setup(c)  # enables three tables, with history
    c.execute("SELECT idsql.enable_state_version('entity', parent => 'chat_session')")  # again, without history
    for table in ("entity_attribute", "entity", "chat_session"):
        c.execute("SELECT idsql.disable_state_version(%s)", (table,))
    c.execute("SELECT idsql.disable_state_version('entity')")  # twice
    assert notices == []


def test_enable_state_version_errors(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "CREATE TABLE p (id int PRIMARY KEY, state_version bigint);"
        "CREATE TABLE nopk (id int, state_version bigint);"
        "CREATE TABLE two (id int PRIMARY KEY, a int REFERENCES p, b int REFERENCES p, state_version bigint);"
        "CREATE TABLE nofk (id int PRIMARY KEY, state_version bigint);"
        "CREATE TABLE novers (id int PRIMARY KEY)"
    )
    cases: list[tuple[str, tuple[Any, ...], type[Exception]]] = [
        ("two", ("state_version", "p"), errors.NotTracked),
        ("nopk", ("state_version",), errors.NoPrimaryKey),
        ("novers", ("state_version",), psycopg.errors.UndefinedColumn),
    ]
    for tbl, args, exc in cases:
        with pytest.raises(exc), conn.transaction():
            pyidsql.enable_state_version(conn, tbl, *args)
    pyidsql.enable_state_version(conn, "p")
    with pytest.raises(errors.AmbiguousParentFk), conn.transaction():
        pyidsql.enable_state_version(conn, "two", parent="p")
    with pytest.raises(errors.ParentFkNotFound), conn.transaction():
        pyidsql.enable_state_version(conn, "nofk", parent="p")
    with pytest.raises(errors.ParentFkNotFound), conn.transaction():
        pyidsql.enable_state_version(conn, "two", parent="p", parent_fk="nope")
    pyidsql.enable_state_version(conn, "two", parent="p", parent_fk="two_b_fkey")
    conn.execute("INSERT INTO p VALUES (1, 1), (2, 1)")
    conn.execute("INSERT INTO two (id, a, b) VALUES (1, 1, 2)")
    # Inside one transaction (or autocommit, one statement each) p2 counted its child's insert.
    assert conn.execute("SELECT id, state_version FROM p ORDER BY 1").fetchall() in (
        [(1, 1), (2, 2)],  # autocommit: the insert was a transaction of its own
        [(1, 1), (2, 1)],  # one transaction: p2 was inserted in it, so it counted already
    )
    with pytest.raises(errors.NotTracked), conn.transaction():
        pyidsql.row_history(conn, "nofk", {"id": 1})
    with pytest.raises(errors.HistoryNotKept), conn.transaction():
        pyidsql.row_history(conn, "p", {"id": 1})


def test_disable_state_version_keeps_data_and_history(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    pyidsql.disable_state_version(db, "entity")
    assert db.execute(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'entity'::regclass AND tgname LIKE 'idsql%'"
    ).fetchone() == (0,)
    db.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")
    assert (_session(db), _entities(db)) == (1, {"A": 1, "B": 1})
    assert len(pyidsql.row_history(db, "entity", {"entity_id": "A"})) == 1
    pyidsql.enable_state_version(db, "entity", parent="chat_session", history=True)
    db.execute("UPDATE entity SET name = 'Anna' WHERE entity_id = 'A'")
    assert (_session(db), _entities(db)) == (2, {"A": 2, "B": 1})


def test_enable_state_version_row_function_resolves_nothing_through_search_path(conn: psycopg.Connection[Any]) -> None:
    # The generated row trigger has no SET search_path (it runs once per row); a caller whose
    # search_path puts a hostile schema before pg_catalog must not change what it computes.
    _setup(conn)
    conn.execute(
        "CREATE SCHEMA evil;"
        "CREATE FUNCTION evil.plus(bigint, integer) RETURNS bigint LANGUAGE sql RETURN 1000;"
        "CREATE OPERATOR evil.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.plus);"
        "CREATE FUNCTION evil.eq(bigint, bigint) RETURNS boolean LANGUAGE sql RETURN false;"
        "CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq);"
        "CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql RETURN timestamptz '2000-01-01';"
    )
    conn.execute("INSERT INTO chat_session (session_id) VALUES ('S')")
    conn.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'Alice')")
    conn.execute("SET search_path = evil, pg_catalog, public")
    try:
        version = conn.execute("SELECT state_version FROM entity").fetchone()
        conn.execute("UPDATE entity SET name = 'Ann', state_version = state_version")
        after = conn.execute("SELECT state_version, updated_at > '2001-01-01' FROM entity").fetchone()
    finally:
        conn.execute("RESET search_path")
    assert version is not None and after is not None
    # +1 in a transaction of its own; +0 when the insert was in the same transaction.
    assert after[0] == version[0] + (1 if conn.autocommit else 0)
    assert after[1] is True
    unpinned = conn.execute(
        "SELECT proname FROM pg_proc WHERE pronamespace = 'idsql'::regnamespace AND proconfig IS NULL"
        " AND prokind = 'f' AND prosqlbody IS NULL ORDER BY 1"
        # the committing procedure and the inlined standard-body functions are the catalog test's to check
    ).fetchall()
    assert unpinned and all(name.startswith("tg_state_version_row_") for (name,) in unpinned)
    assert conn.execute(
        "SELECT count(*) FROM pg_proc WHERE pronamespace = 'idsql'::regnamespace"
        " AND obj_description(oid, 'pg_proc') IS NULL"
    ).fetchone() == (0,)


# --- history, as-of, diff, prune -------------------------------------------------------------------


def test_children_as_of_and_row_history_survive_an_added_column(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("ALTER TABLE entity ADD COLUMN confidence real")
    pyidsql.enable_state_version(db, "entity", parent="chat_session", history=True)  # harmless again
    db.execute("UPDATE entity SET confidence = 0.5 WHERE entity_id = 'A'")
    db.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")
    history = pyidsql.row_history(db, "entity", {"entity_id": "A"})
    assert [(h.state_version, h.row_data.get("confidence"), h.row_data["name"]) for h in history] == [
        (1, None, "Alice"),
        (2, 0.5, "Alice"),
        (3, 0.5, "Ann"),
    ]
    assert "confidence" not in history[0].row_data
    assert [e.get("confidence") for e in pyidsql.children_as_of(db, "entity", S, 1)] == [None, None]
    diff = pyidsql.changes_between(db, "chat_session", S, 1, 3)
    assert [(d.key, d.changed_fields) for d in diff] == [({"entity_id": "A"}, ["confidence", "name"])]
    # Rolling back keeps the new column's current value: the old rows never had one.
    assert pyidsql.rollback_to_version(db, "chat_session", S, 1) == 4
    assert db.execute("SELECT name, confidence FROM entity WHERE entity_id = 'A'").fetchone() == ("Alice", 0.5)


A = {"entity_id": "A"}
COLUMN_CHANGES = {
    # the DDL, the fields changes_between gives for the version across it, and A after a rollback
    "add": ("ALTER TABLE entity ADD COLUMN score integer DEFAULT 0", ["name", "score"], {"value": "42", "score": 0}),
    "drop": ("ALTER TABLE entity DROP COLUMN value", ["name", "value"], {}),
    "rename": ("ALTER TABLE entity RENAME COLUMN value TO amount", ["amount", "name", "value"], {"amount": "42"}),
    "retype": (
        "ALTER TABLE entity ALTER COLUMN value TYPE integer USING value::integer",
        ["name", "value"],
        {"value": 42},
    ),
}


@pytest.mark.parametrize("change", sorted(COLUMN_CHANGES))
def test_history_stays_readable_when_a_column_is_added_dropped_renamed_or_retyped(
    db: psycopg.Connection[Any], change: str
) -> None:
    ddl, fields, after_rollback = COLUMN_CHANGES[change]
    _initial(db)  # session 1
    db.execute("UPDATE entity SET value = '42' WHERE entity_id = 'A'")  # session 2
    at = _now(db)
    written, then = pyidsql.row_history(db, "entity", A), pyidsql.children_as_of(db, "entity", S, 2)
    db.execute(ddl)
    db.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")  # session 3
    # What was written before reads as it was written, by version and by time.
    assert pyidsql.row_history(db, "entity", A)[:-1] == written
    assert pyidsql.row_history(db, "entity", A, as_of=at) == written
    assert pyidsql.children_as_of(db, "entity", S, 2) == then
    assert pyidsql.children_as_of_time(db, "entity", S, at) == then
    assert pyidsql.row_history(db, "entity", A)[-1].row_data["name"] == "Ann"
    # A column one side has and the other lacks, or holds in another form (the text "42", the
    # integer 42), counts as changed.
    assert [(d.key, d.changed_fields) for d in pyidsql.changes_between(db, "chat_session", S, 2, 3)] == [(A, fields)]
    # A rollback puts the old values into the columns as they are now: into the new type, not
    # into a dropped or renamed column; a column added since keeps its value.
    assert pyidsql.rollback_to_version(db, "chat_session", S, 2) == 4
    row = db.execute("SELECT to_jsonb(e) - 'updated_at' - 'created_at' FROM entity AS e WHERE entity_id = 'A'")
    assert row.fetchone() == ({"entity_id": "A", "session_id": "S", "name": "Alice", "state_version": 4,
                               **after_rollback},)  # fmt: skip


def test_rollback_refuses_old_values_a_retyped_column_cannot_hold(db: psycopg.Connection[Any]) -> None:
    _initial(db)  # session 1
    db.execute("UPDATE entity SET value = 'seven' WHERE entity_id = 'A'")  # session 2
    db.execute("ALTER TABLE entity ALTER COLUMN value TYPE integer USING NULL")
    db.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")  # session 3
    assert pyidsql.children_as_of(db, "entity", S, 2)[0]["value"] == "seven"  # still readable
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="seven"):
        pyidsql.rollback_to_version(db, "chat_session", S, 2)
    assert db.execute("SELECT name, value FROM entity WHERE entity_id = 'A'").fetchone() == ("Ann", None)
    assert _session(db, "S") == 3


def test_changes_between_lists_dropped_and_renamed_columns_by_name(db: psycopg.Connection[Any]) -> None:
    # A row written before a column was dropped or renamed has a key the table no longer has:
    # its changes are found over the keys of both sides, not over the table's columns. The names
    # are chosen so that name order, column order and jsonb's key order (shortest first) differ.
    _initial(db)
    db.execute("ALTER TABLE entity ADD COLUMN zone text, ADD COLUMN rank int, ADD COLUMN aa text")
    db.execute("UPDATE entity SET zone = 'north', rank = 1 WHERE entity_id = 'A'")  # session 2
    db.execute("ALTER TABLE entity RENAME COLUMN zone TO zz")
    db.execute("ALTER TABLE entity DROP COLUMN rank")
    db.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")  # session 3
    diff = pyidsql.changes_between(db, "chat_session", S, 2, 3)
    assert [(d.key, d.changed_fields) for d in diff] == [({"entity_id": "A"}, ["name", "rank", "zone", "zz"])]
    # Both sides written with the table's columns as they are now: its columns, in name order.
    db.execute("UPDATE entity SET zz = 'south', value = 'v', name = 'Al', aa = 'x' WHERE entity_id = 'A'")  # 4
    diff = pyidsql.changes_between(db, "chat_session", S, 4, 3)
    assert [(d.key, d.changed_fields) for d in diff] == [({"entity_id": "A"}, ["aa", "name", "value", "zz"])]


def test_row_history_records_deletes_and_leaves_out_moves(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("INSERT INTO chat_session (session_id) VALUES ('T')")
    db.execute("UPDATE entity SET session_id = 'T' WHERE entity_id = 'B'")
    db.execute("DELETE FROM entity WHERE entity_id = 'B'")
    history = pyidsql.row_history(db, "entity", {"entity_id": "B"})
    assert [(h.state_version, h.root_version, h.operation, h.row_data["session_id"]) for h in history] == [
        (1, 1, "INSERT", "S"),
        (2, 2, "UPDATE", "T"),
        (2, 3, "DELETE", "T"),
    ]
    assert pyidsql.row_history(db, "entity", {"entity_id": "nobody"}) == []


def test_a_changed_key_leaves_the_old_key_in_every_read_and_in_a_rollback(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("UPDATE entity SET entity_id = 'A2' WHERE entity_id = 'A'")
    assert _session(db) == 2

    def keys(version: int) -> list[str]:
        return sorted(r["entity_id"] for r in pyidsql.children_as_of(db, "entity", S, version))

    assert keys(1) == ["A", "B"]
    assert keys(2) == ["A2", "B"]
    assert [h.operation for h in pyidsql.row_history(db, "entity", {"entity_id": "A"})] == ["INSERT", "DELETE"]
    assert [h.operation for h in pyidsql.row_history(db, "entity", {"entity_id": "A2"})] == ["UPDATE"]
    changes = {(c.key["entity_id"], c.change) for c in pyidsql.changes_between(db, "chat_session", S, 1, 2)}
    assert changes == {("A", "removed"), ("A2", "added")}

    # A rollback to the current version changes no row; one to the version before takes the key back.
    pyidsql.rollback_to_version(db, "chat_session", S, 2)
    assert sorted(_entities(db)) == ["A2", "B"]
    pyidsql.rollback_to_version(db, "chat_session", S, 1)
    assert sorted(_entities(db)) == ["A", "B"]
    assert keys(_session(db)) == ["A", "B"]

    # After a no-op UPDATE, a transaction reads its changes through the rows that changed: the same.
    with db.transaction():
        db.execute("UPDATE entity SET name = name WHERE entity_id = 'B'")
        db.execute("UPDATE entity SET entity_id = 'B2' WHERE entity_id = 'B'")
    assert keys(_session(db)) == ["A", "B2"]
    assert [h.operation for h in pyidsql.row_history(db, "entity", {"entity_id": "B"})] == ["INSERT", "DELETE"]

    # A key a BEFORE trigger of the user's changes counts too (the UPDATE does not name the column).
    db.execute(
        "CREATE FUNCTION rename_entity() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN IF NEW.name = 'rename' THEN NEW.entity_id := NEW.entity_id || '3'; END IF; RETURN NEW; END $$;"
        "CREATE TRIGGER rename_entity BEFORE UPDATE ON entity FOR EACH ROW EXECUTE FUNCTION rename_entity()"
    )
    db.execute("UPDATE entity SET name = 'rename' WHERE entity_id = 'A'")
    assert keys(_session(db)) == ["A3", "B2"]
    assert [h.operation for h in pyidsql.row_history(db, "entity", {"entity_id": "A"})][-1] == "DELETE"


def test_children_as_of_time_and_row_history_answer_with_one_version_of_the_parent(connect: Connect) -> None:
    # A transaction that began before the time asked about, but counted for the session only after
    # one that began after it, committed after that time too: neither is in. Both sessions' reads
    # cut at the same version, so the session and its entities agree.
    c = connect(autocommit=True)
    _setup(c)
    c.execute(
        "CREATE TABLE session_note (note_id text PRIMARY KEY, session_id text NOT NULL REFERENCES chat_session);"
        " SELECT idsql.enable_state_version('session_note', version_column => NULL, parent => 'chat_session')"
    )
    c.execute("INSERT INTO chat_session (session_id) VALUES ('S')")
    c.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'Alice')")  # session 2
    before_anything = pyidsql.row_history(c, "chat_session", S)[0].changed_at - timedelta(microseconds=1)

    early = connect()
    early.execute("SELECT 1")  # its transaction begins here
    at = _now(c)
    # Only the session's own history sees this change: the entities have none of it.
    c.execute("INSERT INTO session_note VALUES ('n', 'S')")  # session 3
    early.execute("UPDATE entity SET name = 'Ann' WHERE entity_id = 'A'")  # session 4
    early.commit()
    assert _session(c, "S") == 4

    assert [e["name"] for e in pyidsql.children_as_of_time(c, "entity", S, at)] == ["Alice"]
    assert pyidsql.children_as_of_time(c, "entity", S, at) == pyidsql.children_as_of(c, "entity", S, 2)
    assert [h.state_version for h in pyidsql.row_history(c, "chat_session", S, as_of=at)] == [1, 2]
    # The same through a transaction that began earlier, changing an entity itself.
    early.execute("SELECT 1")
    at = _now(c)
    c.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('B', 'S', 'Bob')")  # session 5
    early.execute("UPDATE entity SET name = 'Anna' WHERE entity_id = 'A'")  # session 6
    early.commit()
    assert [e["name"] for e in pyidsql.children_as_of_time(c, "entity", S, at)] == ["Ann"]
    assert [h.state_version for h in pyidsql.row_history(c, "chat_session", S, as_of=at)] == [1, 2, 3, 4]
    # Now, everything; before anything, nothing (and before the row, no version of it).
    now = _now(c)
    assert [e["name"] for e in pyidsql.children_as_of_time(c, "entity", S, now)] == ["Anna", "Bob"]
    assert pyidsql.row_history(c, "entity", {"entity_id": "A"}, as_of=now) == pyidsql.row_history(
        c, "entity", {"entity_id": "A"}
    )
    assert pyidsql.children_as_of_time(c, "entity", S, before_anything) == []
    assert pyidsql.row_history(c, "chat_session", S, as_of=before_anything) == []
    # The attributes under an entity answer by the entity's versions the same way.
    c.execute("INSERT INTO entity_attribute (attribute_id, entity_id, value) VALUES ('x', 'A', '1')")
    at = _now(c)
    c.execute("UPDATE entity_attribute SET value = '2'")
    assert [a["value"] for a in pyidsql.children_as_of_time(c, "entity_attribute", {"entity_id": "A"}, at)] == ["1"]


def test_children_as_of_time_under_a_parent_without_history_or_with_its_history_started_late(connect: Connect) -> None:
    # Without the parent's history, the cut comes from the entries of the table read; once the
    # parent keeps history, from its entries where they cover the time asked about, and from the
    # table read again for a time before they start.
    c = connect(autocommit=True)
    c.execute(
        "CREATE TABLE folder (folder_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1);"
        " CREATE TABLE doc (doc_id text PRIMARY KEY, folder_id text NOT NULL REFERENCES folder, body text,"
        "                   state_version bigint NOT NULL DEFAULT 1);"
        " SELECT idsql.enable_state_version('folder');"
        " SELECT idsql.enable_state_version('doc', parent => 'folder', history => true);"
        " INSERT INTO folder VALUES ('F'); INSERT INTO doc VALUES ('a', 'F', 'a1')"  # one transaction: folder 1
    )
    f = {"folder_id": "F"}
    early = connect()
    early.execute("SELECT 1")
    at = _now(c)
    c.execute("INSERT INTO doc VALUES ('b', 'F', 'b1')")  # folder 2, began after at
    early.execute("UPDATE doc SET body = 'a2' WHERE doc_id = 'a'")  # folder 3, began before
    early.commit()
    assert pyidsql.children_as_of_time(c, "doc", f, at) == pyidsql.children_as_of(c, "doc", f, 1)
    assert [d["body"] for d in pyidsql.children_as_of_time(c, "doc", f, at)] == ["a1"]

    pyidsql.enable_state_version(c, "folder", history=True)  # its history starts at version 3
    c.execute("UPDATE doc SET body = 'b2' WHERE doc_id = 'b'")  # folder 4
    later = _now(c)
    c.execute("UPDATE doc SET body = 'a3' WHERE doc_id = 'a'")  # folder 5
    assert [h.operation for h in pyidsql.row_history(c, "folder", f)] == ["BASELINE", "UPDATE", "UPDATE"]
    assert pyidsql.children_as_of_time(c, "doc", f, later) == pyidsql.children_as_of(c, "doc", f, 4)
    assert pyidsql.children_as_of_time(c, "doc", f, at) == pyidsql.children_as_of(c, "doc", f, 1)


def test_children_as_of_time_and_row_history_refuse_bad_input(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    now = _now(db)
    with pytest.raises(psycopg.errors.NullValueNotAllowed, match="as_of is NULL"):
        db.execute("SELECT idsql.children_as_of_time('entity', '{\"session_id\": \"S\"}', NULL)")
    with pytest.raises(psycopg.errors.NullValueNotAllowed, match="parent_key is NULL"):
        db.execute("SELECT idsql.children_as_of_time('entity', NULL, now())")
    with pytest.raises(psycopg.errors.NullValueNotAllowed, match="as_of is NULL") as null:
        db.execute("SELECT * FROM idsql.row_history('entity', '{\"entity_id\": \"A\"}', NULL)")
    assert null.value.diag.message_hint and "row_history(tbl, key)" in null.value.diag.message_hint
    with pytest.raises(psycopg.errors.NullValueNotAllowed, match="key is NULL"):
        db.execute("SELECT * FROM idsql.row_history('entity', NULL, now())")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="has no parent"):
        pyidsql.children_as_of_time(db, "chat_session", S, now)
    with pytest.raises(psycopg.errors.InvalidDatetimeFormat):
        db.execute("SELECT idsql.children_as_of_time('entity', '{}', 'yesterday at ten')")
    db.execute("CREATE TABLE plain (id int PRIMARY KEY, session_id text REFERENCES chat_session)")
    pyidsql.enable_state_version(db, "plain", version_column=None, parent="chat_session")
    with pytest.raises(errors.HistoryNotKept):
        pyidsql.children_as_of_time(db, "plain", S, now)
    with pytest.raises(errors.NotTracked):
        pyidsql.row_history(db, "idsql.installation", {"singleton": True}, as_of=now)
    # Infinite times are times: everything, and nothing.
    assert len(pyidsql.children_as_of_time(db, "entity", S, datetime.max.replace(tzinfo=now.tzinfo))) == 2
    assert db.execute(
        "SELECT count(*) FROM idsql.children_as_of_time('entity', %s, 'infinity')", (Jsonb(S),)
    ).fetchone() == (2,)
    assert db.execute(
        "SELECT count(*) FROM idsql.children_as_of_time('entity', %s, '-infinity')", (Jsonb(S),)
    ).fetchone() == (0,)


def test_reads_by_version_stay_callable_with_untyped_arguments(db: psycopg.Connection[Any]) -> None:
    # The read by time has a name of its own: as a same-arity overload of children_as_of, a call
    # with untyped arguments (psql literals, a client that sends its parameters untyped) would
    # match both and fail as not unique.
    _initial(db)
    db.execute("PREPARE by_version AS SELECT idsql.children_as_of($1, $2, $3)")
    db.execute("PREPARE by_time AS SELECT idsql.children_as_of_time($1, $2, $3)")
    db.execute("PREPARE history AS SELECT * FROM idsql.row_history($1, $2, $3)")
    key = """'{"session_id": "S"}'"""
    assert len(db.execute(f"EXECUTE by_version ('entity', {key}, '1')").fetchall()) == 2
    assert len(db.execute(f"EXECUTE by_time ('entity', {key}, 'infinity')").fetchall()) == 2
    assert len(db.execute(f"EXECUTE history ('chat_session', {key}, 'infinity')").fetchall()) == 1
    assert db.execute(
        "SELECT count(*) FROM idsql.children_as_of('entity', '{\"session_id\": \"S\"}', '1')"
    ).fetchone() == (2,)


def test_row_history_spans_a_table_that_gained_a_parent(connect: Connect) -> None:
    # A root's entries are found through the root index, a child's through the key index: a table
    # enabled first on its own, then under a parent, has entries of both kinds for one row.
    c = connect(autocommit=True)
    c.execute(
        "CREATE TABLE folder (folder_id int PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1);"
        "CREATE TABLE note (note_id int PRIMARY KEY, folder_id int REFERENCES folder, body text,"
        " state_version bigint NOT NULL DEFAULT 1);"
        "INSERT INTO folder VALUES (1, 1);"
        "INSERT INTO note VALUES (7, 1, 'draft', 1);"
        "SELECT idsql.enable_state_version('note', history => true);"
    )
    c.execute("UPDATE note SET body = 'first' WHERE note_id = 7")
    c.execute(
        "SELECT idsql.enable_state_version('folder', history => true);"
        "SELECT idsql.enable_state_version('note', parent => 'folder', history => true);"
    )
    c.execute("UPDATE note SET body = 'second' WHERE note_id = 7")
    history = pyidsql.row_history(c, "note", {"note_id": 7})
    assert [(h.state_version, h.operation, h.row_data["body"]) for h in history] == [
        (1, "BASELINE", "draft"),
        (2, "UPDATE", "first"),
        (3, "UPDATE", "second"),
    ]
    # Enabling again records no second baseline for a row that has entries of either kind.
    c.execute("SELECT idsql.enable_state_version('note', parent => 'folder', history => true)")
    assert len(pyidsql.row_history(c, "note", {"note_id": 7})) == 3
    # The folder's own history holds its versions, not the entries of the notes under it.
    assert [h.state_version for h in pyidsql.row_history(c, "folder", {"folder_id": 1})] == [1, 2]


def test_changes_between_lists_added_rows_and_ignores_bookkeeping(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, name) VALUES ('a1', 'A', 'colour')")
    diff = pyidsql.changes_between(db, "chat_session", S, 1, 2)
    # Entity A's version moved, but only its attribute changed: A is not listed.
    assert [(d.table_name, d.key, d.change) for d in diff] == [("entity_attribute", {"attribute_id": "a1"}, "added")]
    assert pyidsql.changes_between(db, "chat_session", S, 2, 2) == []
    with pytest.raises(psycopg.errors.NullValueNotAllowed):
        db.execute("SELECT * FROM idsql.changes_between('chat_session', NULL, 1, 2)")


def test_changes_between_is_never_compiled(db: psycopg.Connection[Any]) -> None:
    # The planner prices each of its probes as a scan of a row's whole history, so a diff of a
    # thousand rows passed jit_above_cost, and compiling took longer than the query. jit_above_cost
    # = 0 compiles whatever the caller runs; the query inside changes_between must stay interpreted.
    if db.execute("SELECT pg_jit_available()").fetchone() != (True,):
        pytest.skip("this server cannot compile queries (no jit provider)")
    _initial(db)
    db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, name) VALUES ('a1', 'A', 'colour')")
    plans: list[str] = []
    db.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    db.execute("LOAD 'auto_explain'")
    db.execute("SET auto_explain.log_min_duration = 0")
    db.execute("SET auto_explain.log_nested_statements = on")
    db.execute("SET jit_above_cost = 0")
    db.execute("SET client_min_messages = log")
    assert len(pyidsql.changes_between(db, "chat_session", S, 1, 2)) == 1
    db.execute("RESET client_min_messages")
    inside = [p for p in plans if "FROM idsql.row_version AS h" in p]
    outside = [p for p in plans if "FROM idsql.changes_between" in p]
    assert inside and outside
    assert all("JIT:" in p for p in outside)  # the caller's own statement was compiled
    assert not any("JIT:" in p for p in inside)


# The definition of changes_between, straight from the whole history under the root: each row's
# last entry at each version (DELETE or MOVE meaning absent), compared without bookkeeping columns.
# changes_between reads only the entries between the versions; this reads all of them.
CHANGES_BY_DEFINITION = """
WITH h AS (
    SELECT * FROM idsql.row_version
     WHERE root = %(root)s::regclass AND root_key = %(key)s::jsonb
),
at_version AS (
    SELECT v.v, s.tbl, s.key, s.row_data
      FROM (VALUES (%(a)s::bigint), (%(b)s::bigint)) AS v (v)
     CROSS JOIN LATERAL (
           SELECT DISTINCT ON (h.tbl, h.key) h.tbl, h.key, h.operation, h.row_data FROM h
            WHERE h.root_version <= v.v ORDER BY h.tbl, h.key, h.root_version DESC, h.id DESC) AS s
     WHERE s.operation NOT IN ('DELETE', 'MOVE')
),
d AS (
    SELECT coalesce(o.tbl, n.tbl) AS tbl, coalesce(o.key, n.key) AS key, o.row_data AS old_data, n.row_data AS new_data
      FROM (SELECT * FROM at_version WHERE v = %(a)s) AS o
      FULL JOIN (SELECT * FROM at_version WHERE v = %(b)s) AS n ON (o.tbl, o.key) = (n.tbl, n.key)
)
SELECT d.tbl::text, d.key, d.old_data, d.new_data,
       CASE WHEN d.old_data IS NOT NULL AND d.new_data IS NOT NULL THEN
           ARRAY(SELECT k FROM jsonb_object_keys(d.old_data || d.new_data) AS k
                  WHERE k <> ALL (b.bk) AND (d.old_data -> k) IS DISTINCT FROM (d.new_data -> k)
                  ORDER BY k)
       END
  FROM d JOIN idsql.state_version_table AS c ON c.tbl = d.tbl
 CROSS JOIN LATERAL (
       SELECT array_remove(ARRAY[c.version_column, c.created_column, c.updated_column], NULL)::text[] AS bk) AS b
 WHERE d.old_data IS DISTINCT FROM d.new_data
   AND (d.old_data IS NULL OR d.new_data IS NULL OR d.old_data - b.bk <> d.new_data - b.bk)
 ORDER BY d.tbl::oid, d.key
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_changes_between_matches_its_definition_on_random_histories(connect: Connect, seed: int) -> None:
    rng = random.Random(seed)
    c = connect(autocommit=True)
    _setup(c)
    c.execute("INSERT INTO chat_session (session_id) VALUES ('S'), ('T')")
    ids = iter(range(1, 10_000))
    entities: dict[str, str] = {}  # entity -> session
    attributes: dict[str, str] = {}  # attribute -> entity
    # Columns come, change name and go while the history grows: rows written before a change of
    # columns have keys the table no longer has, or lack some it has.
    schema = {
        10: ("entity_attribute", "note", "ALTER TABLE entity_attribute ADD COLUMN note text"),
        18: ("entity", "rank", "ALTER TABLE entity ADD COLUMN rank int"),
        24: ("entity_attribute", "remark", "ALTER TABLE entity_attribute RENAME COLUMN note TO remark"),
        30: ("entity", "", "ALTER TABLE entity DROP COLUMN rank"),
        34: ("entity_attribute", "", "ALTER TABLE entity_attribute DROP COLUMN remark"),
    }
    extra = {"entity_attribute": "", "entity": ""}  # the extra column each table has now, if any

    def column(table: str, usual: str) -> str:
        """The column an UPDATE of *table* sets: half the time its extra column, when it has one."""
        return extra[table] if extra[table] and rng.random() < 0.5 else usual

    for step in range(40):
        if step in schema:
            table, now_extra, ddl = schema[step]
            c.execute(ddl)  # type: ignore[arg-type]
            extra[table] = now_extra
        with c.transaction():
            for _ in range(rng.randint(1, 4)):
                op = rng.random()
                if op < 0.3 or not entities:
                    e = f"e{next(ids)}"
                    entities[e] = rng.choice("ST")
                    c.execute(
                        "INSERT INTO entity (entity_id, session_id, name) VALUES (%s, %s, %s)",
                        (e, entities[e], rng.choice("abc")),
                    )
                elif op < 0.5:
                    name = column("entity", "name")
                    value = rng.randint(1, 3) if name == "rank" else rng.choice("abcd")
                    c.execute(
                        sql.SQL("UPDATE entity SET {} = %s WHERE entity_id = %s").format(sql.Identifier(name)),
                        (value, rng.choice(sorted(entities))),
                    )
                elif op < 0.6:
                    e = rng.choice(sorted(entities))
                    entities[e] = "T" if entities[e] == "S" else "S"
                    c.execute("UPDATE entity SET session_id = %s WHERE entity_id = %s", (entities[e], e))
                elif op < 0.7:
                    e = rng.choice(sorted(entities))
                    c.execute("DELETE FROM entity WHERE entity_id = %s", (e,))
                    del entities[e]
                    attributes = {a: x for a, x in attributes.items() if x != e}
                elif op < 0.85:
                    a = f"a{next(ids)}"
                    attributes[a] = rng.choice(sorted(entities))
                    c.execute(
                        "INSERT INTO entity_attribute (attribute_id, entity_id, value) VALUES (%s, %s, %s)",
                        (a, attributes[a], rng.choice("xyz")),
                    )
                elif attributes:
                    a = rng.choice(sorted(attributes))
                    if rng.random() < 0.5:
                        name = column("entity_attribute", "value")
                        c.execute(
                            sql.SQL("UPDATE entity_attribute SET {} = %s WHERE attribute_id = %s").format(
                                sql.Identifier(name)
                            ),
                            (rng.choice("xyz"), a),
                        )
                    else:
                        c.execute("DELETE FROM entity_attribute WHERE attribute_id = %s", (a,))
                        del attributes[a]
    gone_columns = {col for _, col, _ in schema.values() if col}  # each renamed or dropped by the end
    compared = gone = 0
    for session in ("S", "T"):
        key = {"session_id": session}
        top = _session(c, session)
        for a in range(1, top + 1):
            for b in range(1, top + 1):
                got = c.execute(
                    "SELECT table_name::text, key, old_data, new_data, changed_fields"
                    " FROM idsql.changes_between('chat_session', %s, %s, %s)",
                    (Jsonb(key), a, b),
                ).fetchall()
                params = {"root": "chat_session", "key": Jsonb(key), "a": a, "b": b}
                want = c.execute(CHANGES_BY_DEFINITION, params).fetchall()
                assert got == want, (session, a, b)
                compared += len(want)
                gone += sum(1 for row in want if set(row[4] or ()) & gone_columns)
    assert compared > 100  # the histories had something to compare
    assert gone > 0  # and some of it changed in columns the tables no longer have


def test_rollback_after_moves_and_cascades_touches_only_what_was_under_the_root(db: psycopg.Connection[Any]) -> None:
    db.execute("INSERT INTO chat_session (session_id) VALUES ('S'), ('T')")
    db.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('E', 'S', 'e'), ('D', 'S', 'd')")  # S 2
    db.execute(
        "INSERT INTO entity_attribute (attribute_id, entity_id, value) VALUES ('a', 'E', 'x'), ('d1', 'D', 'y')"
    )  # S 3
    db.execute("UPDATE entity SET session_id = 'T' WHERE entity_id = 'E'")  # S 4, T 2: 'a' goes with E
    db.execute("DELETE FROM entity WHERE entity_id = 'D'")  # S 5: 'd1' goes by cascade
    db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, value) VALUES ('b', 'E', 'z')")  # T 3
    assert (_session(db, "S"), _session(db, "T")) == (5, 3)

    def changes(root: str, a: int, b: int) -> list[tuple[str, str, str]]:
        return sorted(
            (str(d.table_name), next(iter(d.key.values())), d.change)
            for d in pyidsql.changes_between(db, "chat_session", {"session_id": root}, a, b)
        )

    assert changes("S", 3, 4) == [("entity", "E", "removed"), ("entity_attribute", "a", "removed")]
    assert changes("T", 1, 2) == [("entity", "E", "added"), ("entity_attribute", "a", "added")]
    assert changes("S", 4, 5) == [("entity", "D", "removed"), ("entity_attribute", "d1", "removed")]
    # Back to before E and D existed: nothing of T's is taken, E and its attributes stay there.
    assert pyidsql.rollback_to_version(db, "chat_session", {"session_id": "S"}, 1) == 6
    assert _subtree(db, "S") == {}
    assert sorted(k for _, k in _subtree(db, "T")) == [
        '{"attribute_id": "a"}',
        '{"attribute_id": "b"}',
        '{"entity_id": "E"}',
    ]
    # Back to version 3: E comes back from T with its attributes, 'b' (which it never had under S)
    # goes, D and 'd1' come back.
    assert pyidsql.rollback_to_version(db, "chat_session", {"session_id": "S"}, 3) == 7
    assert sorted(k for _, k in _subtree(db, "S")) == [
        '{"attribute_id": "a"}',
        '{"attribute_id": "d1"}',
        '{"entity_id": "D"}',
        '{"entity_id": "E"}',
    ]
    assert _subtree(db, "T") == {}
    assert _session(db, "T") == 4  # losing E counted for T


def test_a_move_carries_every_level_below_even_through_a_table_without_history(db: psycopg.Connection[Any]) -> None:
    # session -> entity -> entity_attribute (history) -> tag (history), and the same with the
    # attributes' history off: the tags still go with their entity.
    db.execute("ALTER TABLE entity_attribute ADD COLUMN state_version bigint NOT NULL DEFAULT 1")
    db.execute(
        "CREATE TABLE tag (tag_id text PRIMARY KEY, attribute_id text NOT NULL REFERENCES entity_attribute, label text)"
    )
    for n, attribute_history in enumerate((True, False)):
        db.execute(
            "SELECT idsql.enable_state_version('entity_attribute', parent => 'entity', history => %s)",
            (attribute_history,),
        )
        db.execute(
            "SELECT idsql.enable_state_version('tag', version_column => NULL, parent => 'entity_attribute',"
            " history => true)"
        )
        src, dst = f"S{n}", f"T{n}"
        db.execute("INSERT INTO chat_session (session_id) VALUES (%s), (%s)", (src, dst))
        db.execute("INSERT INTO entity (entity_id, session_id) VALUES (%s, %s)", (f"E{n}", src))
        db.execute("INSERT INTO entity_attribute (attribute_id, entity_id) VALUES (%s, %s)", (f"a{n}", f"E{n}"))
        db.execute("INSERT INTO tag (tag_id, attribute_id, label) VALUES (%s, %s, 'red')", (f"t{n}", f"a{n}"))
        s, t = _session(db, src), _session(db, dst)
        db.execute("UPDATE entity SET session_id = %s WHERE entity_id = %s", (dst, f"E{n}"))
        moved = {"entity": "removed", "tag": "removed"} | ({"entity_attribute": "removed"} if attribute_history else {})
        got = {
            str(d.table_name): d.change
            for d in pyidsql.changes_between(db, "chat_session", {"session_id": src}, s, s + 1)
        }
        assert got == moved
        got = {
            str(d.table_name): d.change
            for d in pyidsql.changes_between(db, "chat_session", {"session_id": dst}, t, t + 1)
        }
        assert got == {k: "added" for k in moved}


def test_row_history_lists_versions_in_the_order_they_were_written(db: psycopg.Connection[Any]) -> None:
    db.execute("INSERT INTO chat_session (session_id) VALUES ('S'), ('T')")
    db.execute("UPDATE chat_session SET updated_at = now() WHERE session_id = 'S'")  # S ahead of T
    db.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('E', 'S', 'e')")
    db.execute("INSERT INTO entity_attribute (attribute_id, entity_id, value) VALUES ('a', 'E', 'v1')")
    db.execute("UPDATE entity_attribute SET value = 'v2'")
    db.execute("UPDATE entity SET session_id = 'T'")  # 'a' goes too: T's versions are lower than S's
    db.execute("UPDATE entity_attribute SET value = 'v3'")
    history = pyidsql.row_history(db, "entity_attribute", {"attribute_id": "a"})
    assert [(h.operation, h.row_data["value"]) for h in history] == [
        ("INSERT", "v1"),
        ("UPDATE", "v2"),
        ("UPDATE", "v2"),
        ("UPDATE", "v3"),
    ]
    # A row deleted and inserted again by a rollback starts at version 1 again, after the others.
    db.execute("UPDATE entity SET name = 'f'")
    db.execute("DELETE FROM entity_attribute")
    db.execute("DELETE FROM entity")
    pyidsql.rollback_to_version(db, "chat_session", {"session_id": "T"}, _session(db, "T") - 2)
    history = pyidsql.row_history(db, "entity", {"entity_id": "E"})
    assert [(h.operation, h.state_version) for h in history] == [
        ("INSERT", 1),
        *(("UPDATE", v) for v in range(2, 8)),
        ("DELETE", 7),
        ("INSERT", 1),
    ]


# The rows under each session, read from the tables themselves: what the history must agree with.
SUBTREE = """
SELECT 'entity', pg_catalog.jsonb_build_object('entity_id', e.entity_id), pg_catalog.to_jsonb(e)
  FROM entity AS e WHERE e.session_id = %(s)s
UNION ALL
SELECT 'entity_attribute', pg_catalog.jsonb_build_object('attribute_id', a.attribute_id), pg_catalog.to_jsonb(a)
  FROM entity_attribute AS a JOIN entity AS e USING (entity_id) WHERE e.session_id = %(s)s
"""
BOOKKEEPING = ("state_version", "created_at", "updated_at")

Rows = dict[tuple[str, str], dict[str, Any]]


def _subtree(c: psycopg.Connection[Any], session: str) -> Rows:
    return {(t, json.dumps(k, sort_keys=True)): d for t, k, d in c.execute(SUBTREE, {"s": session}).fetchall()}


def _data(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: v for k, v in row.items() if k not in BOOKKEEPING}


def _now(c: psycopg.Connection[Any]) -> datetime:
    row = c.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def _random_moves_history(
    c: psycopg.Connection[Any],
    rng: random.Random,
    times: list[tuple[datetime, dict[str, int]]] | None = None,
    *,
    first: int = 1,
) -> dict[str, dict[int, Rows]]:
    """Run 40 random transactions over two sessions, moving entities and attributes between them.

    Return each session's subtree after every version it reached, read from the tables. Into
    *times*, the server's clock between transactions, each with the versions the sessions had then.
    New rows are numbered from *first*; the sessions are created when it is 1 (a history goes on
    from another with a higher one).
    """
    if times is not None:
        times.append((_now(c), {}))
    if first == 1:
        c.execute("INSERT INTO chat_session (session_id) VALUES ('S'), ('T')")
    seen: dict[str, dict[int, Rows]] = {s: {_session(c, s): _subtree(c, s)} for s in "ST"}
    ids = iter(range(first, first + 10_000))
    for _ in range(40):
        with c.transaction():
            for _ in range(rng.randint(1, 3)):
                entities = [r[0] for r in c.execute("SELECT entity_id FROM entity ORDER BY 1")]
                attributes = [r[0] for r in c.execute("SELECT attribute_id FROM entity_attribute ORDER BY 1")]
                op = rng.random()
                if op < 0.2 or not entities:
                    c.execute(
                        "INSERT INTO entity (entity_id, session_id, name) VALUES (%s, %s, %s)",
                        (f"e{next(ids)}", rng.choice("ST"), rng.choice("abc")),
                    )
                elif op < 0.3:
                    c.execute(
                        "UPDATE entity SET name = %s WHERE entity_id = %s", (rng.choice("abcd"), rng.choice(entities))
                    )
                elif op < 0.5:
                    c.execute(
                        "UPDATE entity SET session_id = CASE session_id WHEN 'S' THEN 'T' ELSE 'S' END"
                        " WHERE entity_id = %s",
                        (rng.choice(entities),),
                    )
                elif op < 0.55:
                    c.execute("DELETE FROM entity WHERE entity_id = %s", (rng.choice(entities),))
                elif op < 0.75 or not attributes:
                    c.execute(
                        "INSERT INTO entity_attribute (attribute_id, entity_id, value) VALUES (%s, %s, %s)",
                        (f"a{next(ids)}", rng.choice(entities), rng.choice("xyz")),
                    )
                elif op < 0.85:
                    c.execute(
                        "UPDATE entity_attribute SET value = %s WHERE attribute_id = %s",
                        (rng.choice("xyz"), rng.choice(attributes)),
                    )
                elif op < 0.95:
                    c.execute(
                        "UPDATE entity_attribute SET entity_id = %s WHERE attribute_id = %s",
                        (rng.choice(entities), rng.choice(attributes)),
                    )
                else:
                    c.execute("DELETE FROM entity_attribute WHERE attribute_id = %s", (rng.choice(attributes),))
        for session in "ST":
            version, rows = _session(c, session), _subtree(c, session)
            # A session whose version did not move has the same rows: every change under it counted.
            assert seen[session].setdefault(version, rows) == rows, (session, version)
        if times is not None:
            times.append((_now(c), {session: _session(c, session) for session in "ST"}))
    return seen


def _check_reads(c: psycopg.Connection[Any], session: str, versions: dict[int, Rows]) -> None:
    """Check children_as_of at every version and changes_between for every pair against the rows read."""
    key = {"session_id": session}
    for v, rows in versions.items():
        entities = sorted((d for (t, _), d in rows.items() if t == "entity"), key=lambda d: d["entity_id"])
        assert pyidsql.children_as_of(c, "entity", key, v) == entities, (session, v)
    for a in versions:
        for b in versions:
            want = []
            for k in sorted(versions[a].keys() | versions[b].keys()):
                old, new = versions[a].get(k), versions[b].get(k)
                if _data(old) != _data(new):
                    change = "added" if old is None else "removed" if new is None else "changed"
                    want.append((k[0], k[1], change, old, new))
            got = sorted(
                (str(d.table_name), json.dumps(d.key, sort_keys=True), d.change, d.old_data, d.new_data)
                for d in pyidsql.changes_between(c, "chat_session", key, a, b)
            )
            assert got == sorted(want, key=lambda w: (w[0], w[1])), (session, a, b)


def _check_reads_by_time(
    c: psycopg.Connection[Any], versions: dict[str, dict[int, Rows]], times: list[tuple[datetime, dict[str, int]]]
) -> None:
    """Check the reads by time at every instant between transactions: the versions the sessions had then."""
    for at, had in times:
        for session in "ST":
            key = {"session_id": session}
            version = had.get(session)
            rows = versions[session][version] if version else {}
            entities = sorted((d for (t, _), d in rows.items() if t == "entity"), key=lambda d: d["entity_id"])
            assert pyidsql.children_as_of_time(c, "entity", key, at) == entities, (session, at, version)
            history = pyidsql.row_history(c, "chat_session", key, as_of=at)
            assert (history[-1].state_version if history else None) == version, (session, at)
            assert history == pyidsql.row_history(c, "chat_session", key)[: len(history)]


def _reads_live_rows(c: psycopg.Connection[Any], table: str, parent_key: dict[str, str]) -> bool:
    """Whether children_as_of looks up the rows under the parent now (else the history's alone)."""
    row = c.execute("SELECT idsql._state_version_live_keys(%s, %s) IS NOT NULL", (table, Jsonb(parent_key))).fetchone()
    return bool(row and row[0])


def _drop_foreign_key_indexes(c: psycopg.Connection[Any]) -> None:
    c.execute("DROP INDEX entity_session_id_idx, entity_attribute_entity_id_idx")


@pytest.mark.parametrize("fk_index", [True, False], ids=["rows-under-the-parent", "history-alone"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_history_agrees_with_the_tables_when_rows_move_between_roots(
    connect: Connect, seed: int, fk_index: bool
) -> None:
    # Entities move between two sessions with their attributes, and attributes between entities. At
    # every version the tables were read; the history must give back exactly those rows, by version
    # and by the time between two transactions. children_as_of reads them both ways: the rows under
    # the session now plus those that left it, or (no index of the foreign key) the history's alone.
    rng = random.Random(seed)
    c = connect(autocommit=True)
    _setup(c)
    if not fk_index:
        _drop_foreign_key_indexes(c)
    assert _reads_live_rows(c, "entity", S) is fk_index
    times: list[tuple[datetime, dict[str, int]]] = []
    seen = _random_moves_history(c, rng, times)
    _check_reads_by_time(c, seen, times)
    for session, versions in seen.items():
        _check_reads(c, session, versions)
        # Rolling back to any version gives that version's rows back (their bookkeeping moves on)
        # and takes from the other session only what came back from it.
        other = "T" if session == "S" else "S"
        for v in rng.sample(sorted(versions), min(6, len(versions))):
            before = _subtree(c, other)
            with pytest.raises(_Undo), c.transaction():
                pyidsql.rollback_to_version(c, "chat_session", {"session_id": session}, v)
                after = _subtree(c, session)
                assert {k: _data(d) for k, d in after.items()} == {k: _data(d) for k, d in versions[v].items()}
                left = _subtree(c, other)
                assert {k: _data(d) for k, d in left.items()} == {k: _data(before[k]) for k in left}
                back = {k for k in before.keys() - left.keys()}
                dragged = {k for k in back if k not in after and k[0] == "entity_attribute"}
                assert back - dragged <= after.keys()
                raise _Undo
    # Pruning to the last 8 versions of each session keeps every read of those versions, and of
    # the one before them, whose rows stay as the state the kept ones start from.
    assert pyidsql.prune_history(c, "chat_session", keep_versions=8) > 0
    for session, versions in seen.items():
        kept = {v: rows for v, rows in versions.items() if v >= max(versions) - 8}
        _check_reads(c, session, kept)
        with pytest.raises(errors.VersionNotKept):
            pyidsql.rollback_to_version(c, "chat_session", {"session_id": session}, min(kept) - 1)
    moved = c.execute("SELECT count(*) FROM idsql.row_version WHERE operation = 'MOVE' AND parent_key IS NULL")
    assert (moved.fetchone() or (0,))[0] > 0  # the histories had attributes change root with their entity


class _Undo(Exception):
    """Raised to roll a test transaction back."""


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["entity_id"] for r in rows]


def test_children_as_of_reads_the_history_alone_where_the_table_cannot_answer(
    db: psycopg.Connection[Any], roles: Callable[[], str]
) -> None:
    # Rows the table hides from the reader (row security), a reader who cannot select the table,
    # and a table whose triggers are off: children_as_of then reads the history alone, and gives
    # the same rows.
    _initial(db)
    db.execute("UPDATE entity SET name = 'Al' WHERE entity_id = 'A'")
    db.execute("DELETE FROM entity WHERE entity_id = 'B'")
    db.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('C', 'S', 'Carol')")
    assert _reads_live_rows(db, "entity", S)
    expected = {v: pyidsql.children_as_of(db, "entity", S, v) for v in range(1, _session(db) + 1)}
    assert [_names(expected[v]) for v in sorted(expected)] == [["A", "B"], ["A", "B"], ["A"], ["A", "C"]]

    role = roles()
    pyidsql.grant_access(db, role)
    db.execute("ALTER TABLE entity ENABLE ROW LEVEL SECURITY")
    db.execute(
        sql.SQL("CREATE POLICY hide_alice ON entity TO {} USING (entity_id <> 'A')").format(sql.Identifier(role))
    )
    db.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("SELECT FROM entity")
    assert not _reads_live_rows(db, "entity", S)
    assert {v: pyidsql.children_as_of(db, "entity", S, v) for v in expected} == expected
    db.execute("RESET ROLE")
    db.execute(sql.SQL("GRANT SELECT ON entity TO {}").format(sql.Identifier(role)))
    db.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    assert db.execute("SELECT entity_id FROM entity").fetchall() == [("C",)]
    assert not _reads_live_rows(db, "entity", S)
    assert {v: pyidsql.children_as_of(db, "entity", S, v) for v in expected} == expected
    db.execute("RESET ROLE")
    db.execute("ALTER TABLE entity DISABLE ROW LEVEL SECURITY")
    db.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    assert _reads_live_rows(db, "entity", S)
    assert {v: pyidsql.children_as_of(db, "entity", S, v) for v in expected} == expected
    db.execute("RESET ROLE")

    db.execute("SELECT idsql.disable_state_version('entity')")
    assert not _reads_live_rows(db, "entity", S)
    assert {v: pyidsql.children_as_of(db, "entity", S, v) for v in expected} == expected


def test_children_as_of_finds_a_parent_only_by_the_key_its_history_holds(connect: Connect) -> None:
    # An integer foreign key: the parent's key must be the JSON the history wrote ({"id": 1}). A
    # string, a value the column's type refuses, a missing or an extra field find no row, through
    # the table and through the history alone; never an error, never another parent's rows.
    c = connect(autocommit=True)
    c.execute(
        "CREATE TABLE folder (id integer PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1);"
        "CREATE TABLE doc (id integer PRIMARY KEY, folder_id integer NOT NULL REFERENCES folder, body text);"
        "CREATE INDEX doc_folder_id_idx ON doc (folder_id);"
        "SELECT idsql.enable_state_version('folder', history => true);"
        "SELECT idsql.enable_state_version('doc', version_column => NULL, parent => 'folder', history => true);"
        "INSERT INTO folder VALUES (1), (2);"
        "INSERT INTO doc VALUES (10, 1, 'a'), (11, 1, 'b'), (20, 2, 'c');"
    )

    def read(key: Any) -> list[Any]:
        return [r[0]["id"] for r in c.execute("SELECT idsql.children_as_of('doc', %s, 2)", (Jsonb(key),))]

    keys: list[Any] = [
        {"id": 1},
        {"id": "1"},
        {"id": "x"},
        {"id": 1.5},
        {"id": 2**40},
        {"id": None},
        {},
        {"id": 1, "more": 1},
        [1],
        1,
        "x",
    ]
    through_table = [read(k) for k in keys]
    assert through_table[0] == [10, 11]
    assert through_table[1:] == [[]] * (len(keys) - 1)
    assert _reads_live_rows(c, "doc", {"id": 1})  # type: ignore[dict-item]
    # Values that do not come back the same through the column's type: the history alone answers.
    assert not any(_reads_live_rows(c, "doc", k) for k in keys[1:5])
    c.execute("DROP INDEX doc_folder_id_idx")
    assert [read(k) for k in keys] == through_table


def test_enabling_again_records_the_rows_that_left_while_tracking_was_off(db: psycopg.Connection[Any]) -> None:
    # While entity's triggers were off, B was deleted and A moved to T. Enabled again, the history
    # records both as leaving S, at one new version of S: reads before it still list them, reads
    # from it do not, and children_as_of gives the same rows through the table and without it.
    _initial(db)
    db.execute("INSERT INTO chat_session (session_id) VALUES ('T')")
    before = _session(db)
    db.execute("SELECT idsql.disable_state_version('entity')")
    db.execute("DELETE FROM entity WHERE entity_id = 'B'")
    db.execute("UPDATE entity SET session_id = 'T' WHERE entity_id = 'A'")
    db.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('C', 'S', 'Carol')")
    assert _session(db) == before  # nothing counted while off
    db.execute("SELECT idsql.enable_state_version('entity', parent => 'chat_session', history => true)")
    after = _session(db)
    assert after == before + 1
    written = db.execute(
        "SELECT key ->> 'entity_id', operation, parent_version FROM idsql.row_version"
        " WHERE tbl = 'entity'::regclass AND operation IN ('DELETE', 'MOVE') ORDER BY 1"
    ).fetchall()
    assert written == [("A", "MOVE", after), ("B", "DELETE", after)]
    reads = {v: _names(pyidsql.children_as_of(db, "entity", S, v)) for v in (before, after)}
    # C came while off and has no entry yet: enabling records it as a baseline.
    assert reads == {before: ["A", "B"], after: ["C"]}
    changes = {
        (str(d.table_name), d.key["entity_id"], d.change)
        for d in pyidsql.changes_between(db, "chat_session", S, before, after)
    }
    assert changes == {("entity", "A", "removed"), ("entity", "B", "removed"), ("entity", "C", "added")}
    db.execute("UPDATE entity SET name = 'Cee' WHERE entity_id = 'C'")
    reads[_session(db)] = ["C"]
    assert _reads_live_rows(db, "entity", S)
    assert {v: _names(pyidsql.children_as_of(db, "entity", S, v)) for v in reads} == reads
    _drop_foreign_key_indexes(db)
    assert {v: _names(pyidsql.children_as_of(db, "entity", S, v)) for v in reads} == reads
    # Enabling an enabled table again records nothing more.
    entries = _history_rows(db)
    db.execute("SELECT idsql.enable_state_version('entity', parent => 'chat_session', history => true)")
    assert _history_rows(db) == entries


def test_changes_between_is_planned_for_its_arguments_at_every_call(db: psycopg.Connection[Any]) -> None:
    # From the sixth call in a session PL/pgSQL may keep a generic plan. On the bench's history one
    # probed each row's earlier state through the root index and read the root's whole history per
    # row: a diff of 10,000 rows took 18 s instead of 0.2 s. The function is planned for its
    # arguments every time, and answers the same at every call.
    (config,) = db.execute(
        "SELECT proconfig FROM pg_proc WHERE oid = 'idsql.changes_between(regclass,jsonb,bigint,bigint)'::regprocedure"
    ).fetchone() or (None,)
    assert "plan_cache_mode=force_custom_plan" in (config or [])
    _initial(db)
    db.execute("UPDATE entity SET name = 'Al' WHERE entity_id = 'A'")
    first = pyidsql.changes_between(db, "chat_session", S, 1, 2)
    assert [(c.key["entity_id"], c.change, c.changed_fields) for c in first] == [("A", "changed", ["name"])]
    assert all(pyidsql.changes_between(db, "chat_session", S, 1, 2) == first for _ in range(8))


def test_prune_history_keeps_as_of_working_for_kept_versions(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    for i in range(10):
        db.execute("UPDATE entity SET value = %s WHERE entity_id = 'A'", (str(i),))
    assert _session(db) == 11
    expected = {v: pyidsql.children_as_of(db, "entity", S, v) for v in range(8, 12)}
    removed = pyidsql.prune_history(db, "chat_session", keep_versions=3)
    assert removed > 0
    assert {v: pyidsql.children_as_of(db, "entity", S, v) for v in range(8, 12)} == expected
    assert pyidsql.prune_history(db, "chat_session", keep_versions=3) == 0
    with pytest.raises(errors.VersionNotKept):
        pyidsql.rollback_to_version(db, "chat_session", S, 2)
    assert pyidsql.rollback_to_version(db, "chat_session", S, 8) == 12
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        pyidsql.prune_history(db, "chat_session", keep_versions=0)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        pyidsql.prune_history(db, "entity")


async def test_state_versions_async_wrappers(aconn: psycopg.AsyncConnection[Any]) -> None:
    await aconn.execute(SCHEMA)
    async with aconn.transaction():
        await aconn.execute("INSERT INTO chat_session (session_id) VALUES ('S')")
        await aconn.execute("INSERT INTO entity (entity_id, session_id, name) VALUES ('A', 'S', 'Alice')")
    await aconn.execute("UPDATE entity SET name = 'Ann'")
    await pyidsql.aio.enable_state_version(aconn, "entity", parent="chat_session", history=True)
    assert [h.state_version for h in await pyidsql.aio.row_history(aconn, "entity", {"entity_id": "A"})] == [1, 2]
    assert [e["name"] for e in await pyidsql.aio.children_as_of(aconn, "entity", S, 1)] == ["Alice"]
    first = (await pyidsql.aio.row_history(aconn, "chat_session", S))[0].changed_at
    assert [e["name"] for e in await pyidsql.aio.children_as_of_time(aconn, "entity", S, first)] == ["Alice"]
    assert len(await pyidsql.aio.row_history(aconn, "entity", {"entity_id": "A"}, as_of=first)) == 1
    assert [d.change for d in await pyidsql.aio.changes_between(aconn, "chat_session", S, 1, 2)] == ["changed"]
    assert await pyidsql.aio.rollback_to_version(aconn, "chat_session", S, 1) == 3
    assert await pyidsql.aio.prune_history(aconn, "chat_session", 1) > 0
    await pyidsql.aio.disable_state_version(aconn, "entity_attribute")


def test_enable_state_version_jsonb_keys_are_values_not_sql(conn: psycopg.Connection[Any]) -> None:
    _setup(conn)
    conn.execute("INSERT INTO chat_session (session_id) VALUES ('x''); DROP TABLE entity; --')")
    key = {"session_id": "x'); DROP TABLE entity; --"}
    conn.execute("INSERT INTO entity (entity_id, session_id) VALUES ('A', %s)", (key["session_id"],))
    version = _session(conn, key["session_id"])
    assert [e["entity_id"] for e in pyidsql.children_as_of(conn, "entity", key, version)] == ["A"]
    assert conn.execute("SELECT to_regclass('entity') IS NOT NULL").fetchone() == (True,)
    nobody = Jsonb({"session_id": "nobody"})
    assert conn.execute("SELECT idsql.children_as_of('entity', %s, 1)", (nobody,)).fetchall() == []


# --- SQLAlchemy and Alembic ---------------------------------------------------------------------------


def test_state_versioned_enables_the_triggers_in_create_all(dsn: str) -> None:
    sa = pytest.importorskip("sqlalchemy")
    from pyidsql.sa import state_versioned

    metadata = sa.MetaData()
    session = state_versioned(
        sa.Table(
            "sa_session",
            metadata,
            sa.Column("session_id", sa.Text, primary_key=True),
            sa.Column("state_version", sa.BigInteger, nullable=False, server_default="1"),
        ),
        history=True,
    )
    state_versioned(
        sa.Table(
            "sa_entity",
            metadata,
            sa.Column("entity_id", sa.Text, primary_key=True),
            sa.Column("session_id", sa.Text, sa.ForeignKey("sa_session.session_id"), nullable=False),
            sa.Column("name", sa.Text),
            sa.Column("state_version", sa.BigInteger, nullable=False, server_default="1"),
        ),
        parent=session,
        history=True,
    )
    engine = sa.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    try:
        with engine.begin() as c:
            metadata.create_all(c)
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO sa_session (session_id) VALUES ('S')"))
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO sa_entity (entity_id, session_id, name) VALUES ('A', 'S', 'a')"))
        with engine.begin() as c:
            assert c.execute(sa.text("SELECT state_version FROM sa_session")).scalar() == 2
            assert [e["name"] for e in pyidsql.children_as_of(c, "sa_entity", S, 2)] == ["a"]
        with engine.begin() as c:
            metadata.drop_all(c)
            assert c.execute(sa.text("SELECT count(*) FROM idsql.state_version_table WHERE enabled")).scalar() == 0
    finally:
        engine.dispose()


ALEMBIC_ENV = """
import os

import psycopg
import sqlalchemy as sa
from alembic import context
from sqlalchemy.pool import NullPool

import pyidsql.alembic  # registers op.enable_state_version / op.disable_state_version

dsn = os.environ["APP_DSN"]
if context.is_offline_mode():
    context.configure(url="postgresql://", literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = sa.create_engine("postgresql+psycopg://", poolclass=NullPool, creator=lambda: psycopg.connect(dsn))
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
"""

ALEMBIC_0001 = """
from alembic import op

revision = "sv_0001"
down_revision = None


def upgrade():
    op.execute("CREATE SCHEMA app")
    op.execute("CREATE TABLE app.session (session_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1)")
    op.execute("CREATE TABLE app.\\"Entity\\" (entity_id text PRIMARY KEY,"
               " session_id text NOT NULL REFERENCES app.session, state_version bigint NOT NULL DEFAULT 1)")
    op.enable_state_version("session", schema="app", history=True)
    op.enable_state_version("Entity", schema="app", parent="app.session", history=True)


def downgrade():
    op.disable_state_version("Entity", schema="app")
    op.disable_state_version("session", schema="app")
    op.execute("DROP SCHEMA app CASCADE")
"""


def test_enable_state_version_alembic_ops_upgrade_and_downgrade(dsn: str, tmp_path: Any) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (tmp_path / "migrations" / "env.py").write_text(ALEMBIC_ENV)
    (tmp_path / "migrations" / "versions" / "sv_0001.py").write_text(ALEMBIC_0001)

    def alembic(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(tmp_path / "alembic.ini"), *args],
            cwd=tmp_path,
            env={**os.environ, "APP_DSN": dsn},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'idsql\\_state\\_version\\_%'"
    offline = alembic("upgrade", "head", "--sql")
    entity = "(pg_catalog.quote_ident('app') || '.' || pg_catalog.quote_ident('Entity'))"
    assert f"idsql.enable_state_version({entity}" in offline
    alembic("upgrade", "head")
    with psycopg.connect(dsn, autocommit=True) as c:
        assert c.execute(triggers).fetchone() == (10,)  # 5 per table
        c.execute("INSERT INTO app.session VALUES ('S')")
        c.execute("INSERT INTO app.\"Entity\" (entity_id, session_id) VALUES ('A', 'S')")
        assert c.execute("SELECT state_version FROM app.session").fetchone() == (2,)
    alembic("downgrade", "base")
    with psycopg.connect(dsn, autocommit=True) as c:
        assert c.execute(triggers).fetchone() == (0,)
        assert c.execute("SELECT count(*) FROM idsql.state_version_table WHERE enabled").fetchone() == (0,)


def test_disable_state_version_alembic_ops_reverse_each_other() -> None:
    from pyidsql.alembic_ops import DisableStateVersionOp, EnableStateVersionOp

    op = EnableStateVersionOp("entity", parent="chat_session", history=True, schema="app")
    back = op.reverse()
    assert isinstance(back, DisableStateVersionOp)
    assert vars(back.reverse()) == vars(op)
    assert "idsql.disable_state_version((pg_catalog.quote_ident('app')" in back.to_sql()
    # Names are values: a quote in one is doubled, never closes the literal.
    assert "quote_ident('it''s')" in EnableStateVersionOp("it's").to_sql()


# -- install: generated triggers follow the installed version ---------------------------------


def test_install_generates_the_triggers_of_enabled_tables_anew(db: psycopg.Connection[Any]) -> None:
    _initial(db)
    # Stand-ins for functions an older idsql generated: a row trigger that counts nothing and a
    # statement trigger that records nothing. Installing this version writes its own over them.
    stale = "CREATE OR REPLACE FUNCTION idsql.{}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN {}; END $$"
    oid = db.execute("SELECT 'entity'::regclass::oid").fetchone()[0]  # type: ignore[index]
    db.execute(stale.format(f"tg_state_version_row_{oid}", "NEW"))  # type: ignore[arg-type]
    db.execute(stale.format(f"tg_state_version_after_{oid}", "NULL"))  # type: ignore[arg-type]
    db.execute("UPDATE entity SET name = 'A2' WHERE entity_id = 'A'")
    assert (_entities(db)["A"], _session(db)) == (1, 1)
    db.execute("CREATE TABLE gone (id integer PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1)")
    db.execute("SELECT idsql.enable_state_version('gone')")
    db.execute("DROP TABLE gone")  # its configuration row stays behind; the install skips it

    pyidsql.install.install(db)
    db.execute("UPDATE entity SET name = 'A3' WHERE entity_id = 'A'")
    assert (_entities(db)["A"], _session(db)) == (2, 2)
    history = pyidsql.row_history(db, "entity", {"entity_id": "A"})
    assert [(h.state_version, h.operation, h.row_data["name"]) for h in history][-1] == (2, "UPDATE", "A3")


def test_enable_state_version_never_takes_another_tables_function(db: psycopg.Connection[Any]) -> None:
    # After a restore, generated functions keep names carrying the old OIDs, and a new table may
    # get one of those OIDs: its functions get other names, the restored table keeps its own.
    db.execute("CREATE TABLE note (id integer PRIMARY KEY, body text, state_version bigint NOT NULL DEFAULT 1)")
    db.execute("SELECT idsql.enable_state_version('note', history => true)")
    db.execute("CREATE TABLE memo (id integer PRIMARY KEY, body text, state_version bigint NOT NULL DEFAULT 1)")
    note, memo = (db.execute("SELECT %s::regclass::oid", (t,)).fetchone()[0] for t in ("note", "memo"))  # type: ignore[index]
    for kind in ("row", "after"):  # what a restore leaves: note's functions named by memo's OID
        db.execute(f"ALTER FUNCTION idsql.tg_state_version_{kind}_{note}() RENAME TO tg_state_version_{kind}_{memo}")  # type: ignore[arg-type]
    db.execute(
        "UPDATE idsql.state_version_table SET row_function = %s WHERE tbl = 'note'::regclass",
        (f"tg_state_version_row_{memo}",),
    )

    db.execute("SELECT idsql.enable_state_version('memo', history => true)")
    functions = dict(
        db.execute(
            "SELECT t.tgrelid::regclass::text || ' ' || t.tgname, p.proname::text"
            "  FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
            " WHERE t.tgname IN ('idsql_state_version_row', 'idsql_state_version_insert')"
            "   AND t.tgrelid IN ('note'::regclass, 'memo'::regclass)"
        ).fetchall()
    )
    assert functions == {
        "note idsql_state_version_row": f"tg_state_version_row_{memo}",
        "note idsql_state_version_insert": f"tg_state_version_after_{memo}",
        "memo idsql_state_version_row": f"tg_state_version_row_{memo}_2",
        "memo idsql_state_version_insert": f"tg_state_version_after_{memo}_2",
    }
    db.execute("INSERT INTO note VALUES (1, 'n'), (2, 'n')")
    db.execute("INSERT INTO memo VALUES (1, 'm')")
    db.execute("UPDATE note SET body = 'n2' WHERE id = 1")
    db.execute("SELECT idsql.enable_state_version('note', history => true)")  # again: names stay
    db.execute("UPDATE note SET body = 'n3' WHERE id = 1")
    assert [h.state_version for h in pyidsql.row_history(db, "note", {"id": 1})] == [1, 2, 3]
    assert [h.state_version for h in pyidsql.row_history(db, "memo", {"id": 1})] == [1]
    db.execute("SELECT idsql.disable_state_version('memo')")
    left = db.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE %s", (f"tg_state_version_%_{memo}%",))
    assert left.fetchone() == (2,)  # note's two; memo's are gone
