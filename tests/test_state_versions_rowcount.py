"""State versions and row counts: a no-op UPDATE is reported as PostgreSQL reports it, and counts for nothing.

Clients read the row count of an UPDATE (Django's ``save()``, Hibernate's ``@Version``, any
``rowcount`` check) and its ``RETURNING`` rows. On every kind of tracked table, an UPDATE reports
every row it matched, changed or not; the rows it did not change bump no version, no parent, leave
no history and keep their ``updated_at``. The reference for "counts for nothing" is the same
statement without the unchanged rows, run in its own transaction: the tables and the history must
end up the same (timestamps aside, which are the transaction's clock).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

Connect = Callable[..., psycopg.Connection[Any]]

# Every kind of table state versions track: a root with a version and timestamps and no history
# (doc); a root with history (book); a child with a version, timestamps and history (chapter); a
# child without a version column, with timestamps and history (page); children without version or
# timestamps, without history (note) and with it (tag). A root always has a version column.
SCHEMA = """
CREATE TABLE doc (doc_id text PRIMARY KEY, title text, state_version bigint NOT NULL DEFAULT 1,
                  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE book (book_id text PRIMARY KEY, title text, state_version bigint NOT NULL DEFAULT 1);
CREATE TABLE chapter (chapter_id text PRIMARY KEY, book_id text NOT NULL REFERENCES book, title text,
                      state_version bigint NOT NULL DEFAULT 1, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE page (page_id text PRIMARY KEY, chapter_id text NOT NULL REFERENCES chapter, title text,
                   updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE note (note_id text PRIMARY KEY, chapter_id text NOT NULL REFERENCES chapter, title text);
CREATE TABLE tag (tag_id text PRIMARY KEY, book_id text NOT NULL REFERENCES book, title text);
SELECT idsql.enable_state_version('doc');
SELECT idsql.enable_state_version('book', history => true);
SELECT idsql.enable_state_version('chapter', parent => 'book', history => true);
SELECT idsql.enable_state_version('page', version_column => NULL, parent => 'chapter', history => true);
SELECT idsql.enable_state_version('note', version_column => NULL, parent => 'chapter');
SELECT idsql.enable_state_version('tag', version_column => NULL, parent => 'book', history => true);
INSERT INTO doc (doc_id, title) VALUES ('d1', 'one'), ('d2', 'two');
INSERT INTO book (book_id, title) VALUES ('b1', 'one'), ('b2', 'two');
INSERT INTO chapter (chapter_id, book_id, title) VALUES ('c1', 'b1', 'one'), ('c2', 'b1', 'two');
INSERT INTO page (page_id, chapter_id, title) VALUES ('p1', 'c1', 'one'), ('p2', 'c1', 'two');
INSERT INTO note (note_id, chapter_id, title) VALUES ('n1', 'c1', 'one'), ('n2', 'c2', 'two');
INSERT INTO tag (tag_id, book_id, title) VALUES ('t1', 'b2', 'one'), ('t2', 'b2', 'two');
"""

TABLES = ["doc", "book", "chapter", "page", "note", "tag"]
VERSIONED = ["doc", "book", "chapter"]
WITH_TIMESTAMPS = ["doc", "chapter", "page"]


def _key(table: str) -> str:
    return f"{table}_id"


def _first(table: str) -> str:
    return f"{table[0]}1"


@pytest.fixture
def db(connect: Connect) -> psycopg.Connection[Any]:
    c = connect(autocommit=True)
    c.execute(SCHEMA)
    return c


def _state(c: psycopg.Connection[Any], clock: bool = False) -> dict[str, Any]:
    """Every row of every table and every history entry; timestamps only with clock."""
    drop = "" if clock else " - 'created_at' - 'updated_at'"
    state: dict[str, Any] = {}
    for t in TABLES:
        state[t] = c.execute(
            f"SELECT coalesce(jsonb_agg(to_jsonb(t){drop} ORDER BY {_key(t)}), '[]') FROM {t} AS t"
        ).fetchone()
    state["history"] = c.execute(
        "SELECT coalesce(jsonb_agg(jsonb_build_array(tbl::text, key, state_version, parent_key, parent_version,"
        f" root::text, root_key, root_version, operation, row_data{drop}) ORDER BY id), '[]')"
        " FROM idsql.row_version"
    ).fetchone()
    return state


def _in_rolled_back_transaction(c: psycopg.Connection[Any], statements: list[str]) -> dict[str, Any]:
    """The state after the statements, in one transaction that is then rolled back."""
    with c.transaction(force_rollback=True):
        for s in statements:
            c.execute(s)
        return _state(c)


@pytest.mark.parametrize("table", TABLES)
def test_noop_update_reports_every_row_and_counts_for_nothing(db: psycopg.Connection[Any], table: str) -> None:
    before = _state(db, clock=True)
    cur = db.execute(f"UPDATE {table} SET title = title RETURNING {_key(table)}")
    assert cur.rowcount == 2
    assert sorted(r[0] for r in cur.fetchall()) == [f"{table[0]}1", f"{table[0]}2"]
    assert _state(db, clock=True) == before
    # The same inside a transaction that already changed another table, and with a WHERE clause.
    with db.transaction():
        db.execute("UPDATE tag SET title = 'x' WHERE tag_id = 't2'")
        after_change = _state(db, clock=True)
        cur = db.execute(f"UPDATE {table} SET title = title WHERE {_key(table)} = %s RETURNING *", (_first(table),))
        assert (cur.rowcount, len(cur.fetchall())) == (1, 1)
        assert _state(db, clock=True) == after_change


@pytest.mark.parametrize("table", WITH_TIMESTAMPS)
def test_update_of_the_timestamps_alone_reports_its_rows_and_keeps_them(
    db: psycopg.Connection[Any], table: str
) -> None:
    before = _state(db, clock=True)
    cur = db.execute(f"UPDATE {table} SET updated_at = now() + interval '1 day' RETURNING updated_at")
    assert cur.rowcount == 2
    # RETURNING shows the row as written: its timestamp kept.
    kept = db.execute(f"SELECT updated_at FROM {table} ORDER BY {_key(table)}").fetchall()
    assert sorted(cur.fetchall()) == sorted(kept)
    assert _state(db, clock=True) == before


@pytest.mark.parametrize("table", TABLES)
def test_unchanged_rows_of_a_statement_count_for_nothing(db: psycopg.Connection[Any], table: str) -> None:
    first = _first(table)
    mixed = f"UPDATE {table} SET title = CASE WHEN {_key(table)} = '{first}' THEN 'changed' ELSE title END"
    with db.transaction(force_rollback=True):
        assert db.execute(mixed).rowcount == 2
        got = _state(db)
    alone = _in_rolled_back_transaction(db, [f"UPDATE {table} SET title = 'changed' WHERE {_key(table)} = '{first}'"])
    assert got == alone
    assert got != _state(db)  # the change itself counted


# Sequences of statements in one transaction, each against the change alone.
SEQUENCES = {
    "no-op then change": ["noop", "change"],
    "no-op, change, change": ["noop", "change", "change2"],
    "change, no-op, change": ["change", "noop", "change2"],
    "no-op twice then change": ["noop", "noop", "change"],
    "no-op in a rolled-back savepoint, then change": ["SAVEPOINT s", "noop", "ROLLBACK TO SAVEPOINT s", "change"],
    "no-op in a released savepoint, then change": ["SAVEPOINT s", "noop", "RELEASE SAVEPOINT s", "change"],
}


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("sequence", list(SEQUENCES))
def test_a_noop_earlier_in_a_transaction_hides_no_change_after_it(
    db: psycopg.Connection[Any], table: str, sequence: str
) -> None:
    where = f"WHERE {_key(table)} = '{_first(table)}'"
    spelled = {
        "noop": f"UPDATE {table} SET title = title {where}",
        "change": f"UPDATE {table} SET title = 'changed' {where}",
        "change2": f"UPDATE {table} SET title = 'changed again' {where}",
    }
    statements = [spelled.get(s, s) for s in SEQUENCES[sequence]]
    changes = [spelled[s] for s in SEQUENCES[sequence] if s.startswith("change")]
    got = _in_rolled_back_transaction(db, statements)
    assert got == _in_rolled_back_transaction(db, changes)
    if table in VERSIONED:
        row = next(r for r in got[table][0] if r[_key(table)] == _first(table))
        assert row["state_version"] == 2  # once per transaction, however many changes


@pytest.mark.parametrize(
    "noop",
    ["UPDATE book SET title = title WHERE book_id = 'b1'", "UPDATE chapter SET title = title WHERE chapter_id = 'c1'"],
)
def test_a_parent_written_unchanged_still_counts_its_children_once(db: psycopg.Connection[Any], noop: str) -> None:
    # The parent (or the row between) was written unchanged first: the child's change must still
    # reach it and the root, once, however many children change after.
    changes = [
        "UPDATE page SET title = 'changed' WHERE page_id = 'p1'",
        "UPDATE note SET title = 'changed' WHERE note_id = 'n2'",
        "UPDATE page SET title = 'changed' WHERE page_id = 'p2'",
    ]
    got = _in_rolled_back_transaction(db, [noop, *changes])
    assert got == _in_rolled_back_transaction(db, changes)
    versions = {r["book_id"]: r["state_version"] for r in got["book"][0]}
    assert versions == {"b1": 2, "b2": 1}


def test_marks_of_finished_transactions_are_collected(db: psycopg.Connection[Any], connect: Connect) -> None:
    # A row written unchanged and not counted is marked until its transaction ends. A mark is
    # garbage once its transaction has ended, and the next transaction with a no-op removes it.
    assert db.execute(
        "SELECT relpersistence FROM pg_class WHERE oid = 'idsql.state_version_noop'::regclass"
    ).fetchone() == ("u",)
    db.execute("UPDATE doc SET title = title")
    first = db.execute("SELECT xid::text, count(*) FROM idsql.state_version_noop GROUP BY 1").fetchall()
    assert len(first) == 1 and first[0][1] == 2
    db.execute("UPDATE book SET title = title WHERE book_id = 'b1'")
    second = db.execute("SELECT xid::text, count(*) FROM idsql.state_version_noop GROUP BY 1").fetchall()
    assert len(second) == 1 and second[0][0] != first[0][0] and second[0][1] == 1
    # A mark of a transaction still running is kept, and still works for it.
    other = connect()
    other.execute("UPDATE doc SET title = title WHERE doc_id = 'd1'")
    db.execute("UPDATE doc SET title = title WHERE doc_id = 'd2'")
    assert db.execute("SELECT count(*) FROM idsql.state_version_noop").fetchone() == (2,)
    other.execute("UPDATE doc SET title = 'changed' WHERE doc_id = 'd1'")
    other.commit()
    assert db.execute("SELECT state_version FROM doc WHERE doc_id = 'd1'").fetchone() == (2,)


def test_a_role_with_usage_writes_rows_unchanged(db: psycopg.Connection[Any], connect: Connect) -> None:
    # The marks are written by a SECURITY DEFINER function: a writer needs no privilege on them.
    db.execute("CREATE ROLE idsql_rowcount_writer")
    try:
        db.execute("SELECT idsql.grant_access('idsql_rowcount_writer')")
        db.execute("GRANT SELECT, UPDATE ON doc, book, chapter, page, note, tag TO idsql_rowcount_writer")
        w = connect()
        w.execute("SET ROLE idsql_rowcount_writer")
        assert w.execute("UPDATE doc SET title = title").rowcount == 2
        assert w.execute("UPDATE doc SET title = 'changed' WHERE doc_id = 'd1'").rowcount == 1
        assert w.execute("UPDATE chapter SET title = title").rowcount == 2
        w.commit()
        assert db.execute("SELECT state_version FROM doc ORDER BY doc_id").fetchall() == [(2,), (1,)]
        w.close()
    finally:
        db.execute("DROP OWNED BY idsql_rowcount_writer")
        db.execute("DROP ROLE idsql_rowcount_writer")


@pytest.fixture
def psql(pg_server: Any) -> Iterator[str]:
    bindir = getattr(pg_server, "bindir", None)
    path = Path(bindir) / "psql" if bindir is not None else None
    assert path is not None and path.is_file(), f"no psql next to the server's binaries ({bindir})"
    yield str(path)


@pytest.mark.parametrize("table", TABLES)
def test_psql_reports_the_rows_of_a_noop_update(db: psycopg.Connection[Any], dsn: str, psql: str, table: str) -> None:
    before = _state(db, clock=True)
    out = subprocess.run(
        [
            psql,
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            dsn,
            "-c",
            f"UPDATE {table} SET title = title",
            "-c",
            f"UPDATE {table} SET title = title WHERE {_key(table)} = '{_first(table)}' RETURNING {_key(table)}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.splitlines()[0] == "UPDATE 2"
    assert out.stdout.rstrip().endswith("UPDATE 1")
    assert f" {_first(table)}\n" in out.stdout
    assert _state(db, clock=True) == before


def test_columns_named_like_the_generated_aliases(db: psycopg.Connection[Any]) -> None:
    # The generated SQL names rows by short aliases (n, o, r, t, k, ...): a column of the same name
    # must never be taken for the row, nor the row for the column.
    names = ["n", "o", "r", "t", "k", "w", "m", "j", "s", "p", "x", "d", "e", "c"]
    db.execute(
        f"CREATE TABLE alias (alias_id text PRIMARY KEY, book_id text NOT NULL REFERENCES book, "
        f"state_version bigint NOT NULL DEFAULT 1, {', '.join(f'{c} integer' for c in names)})"
    )
    db.execute("SELECT idsql.enable_state_version('alias', parent => 'book', history => true)")
    db.execute(
        f"INSERT INTO alias (alias_id, book_id, {', '.join(names)}) VALUES ('a1', 'b1', "
        f"{', '.join('1' for _ in names)}), ('a2', 'b1', {', '.join('1' for _ in names)})"
    )

    def book() -> int:
        row = db.execute("SELECT state_version FROM book WHERE book_id = 'b1'").fetchone()
        assert row is not None
        return int(row[0])

    start = book()
    assert db.execute("UPDATE alias SET n = n, o = o").rowcount == 2  # a no-op
    assert book() == start
    assert db.execute("UPDATE alias SET n = CASE WHEN alias_id = 'a1' THEN 2 ELSE n END").rowcount == 2
    assert book() == start + 1
    versions = db.execute("SELECT alias_id, state_version FROM alias ORDER BY 1").fetchall()
    assert versions == [("a1", 2), ("a2", 1)]
    history = db.execute(
        "SELECT state_version, row_data ->> 'n' FROM idsql.row_history('alias', %s)", (Jsonb({"alias_id": "a1"}),)
    ).fetchall()
    assert sorted(history) == [(1, "1"), (2, "2")]
    db.execute("SELECT idsql.rollback_to_version('book', %s, %s)", (Jsonb({"book_id": "b1"}), start))
    assert db.execute("SELECT n FROM alias WHERE alias_id = 'a1'").fetchone() == (1,)
