"""Table IDs: the original IDManager's scenarios and every idsql function, on a real database."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors as pg_errors
from psycopg import sql
from sqlalchemy.orm import Session

import pyidsql
import pyidsql.aio
import pyidsql.install
from pyidsql import IDManager, errors

Conn = psycopg.Connection[Any]

CHAT_HISTORY = """
CREATE TABLE chat_history (
    id bigint PRIMARY KEY,
    user_id text NOT NULL,
    query text,
    response text,
    domain text NOT NULL DEFAULT 'general',
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


def scalar(conn: Conn, query: Any, params: Any = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def ids(conn: Conn, table: str = "chat_history") -> list[int]:
    return [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id")]  # type: ignore[arg-type]


@pytest.fixture
def chat(conn: Conn) -> Conn:
    """The connection, with an empty chat_history table like the original's."""
    conn.execute(CHAT_HISTORY)
    return conn


def insert_ids(conn: Conn, *values: int, table: str = "chat_history") -> None:
    for value in values:
        conn.execute(f"INSERT INTO {table} (id, user_id) VALUES (%s, 'u')", (value,))  # type: ignore[arg-type]


# -- the original scenarios --------------------------------------------------------------------


def test_initialize_table_gaps_are_not_refilled(chat: Conn) -> None:
    insert_ids(chat, 1, 2, 5, 7)
    assert pyidsql.initialize_table(chat, "chat_history") == 8
    assert pyidsql.next_id(chat, "chat_history") == 8
    assert pyidsql.next_id(chat, "chat_history") == 9


def test_next_id_gaps_on_first_use_give_max_plus_one(chat: Conn) -> None:
    insert_ids(chat, 1, 2, 5, 7)
    assert pyidsql.next_id(chat, "chat_history") == 8


def test_next_id_manual_insert_of_100_gives_101(chat: Conn) -> None:
    assert [pyidsql.next_id(chat, "chat_history") for _ in range(3)] == [1, 2, 3]
    insert_ids(chat, 100)
    assert pyidsql.next_id(chat, "chat_history") == 101
    row = pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "u"})
    assert row["id"] == 102


def test_initialize_table_empty_table_with_initial_value_1000(chat: Conn) -> None:
    assert pyidsql.initialize_table(chat, "chat_history", initial_value=1000) == 1000
    assert pyidsql.next_id(chat, "chat_history") == 1000
    assert pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "u"})["id"] == 1001


def test_initialize_table_initial_value_below_the_data_is_passed(chat: Conn) -> None:
    insert_ids(chat, 1500)
    assert pyidsql.initialize_table(chat, "chat_history", initial_value=1000) == 1501


def test_initialize_table_row_count_above_max_id(chat: Conn) -> None:
    # The original formula: max(row_count + 1, max_id + 1, initial_value).
    insert_ids(chat, -3, -2, -1)
    assert pyidsql.initialize_table(chat, "chat_history") == 4


def test_initialize_table_never_moves_the_counter_back(chat: Conn) -> None:
    insert_ids(chat, 1, 2, 3)
    assert pyidsql.next_id(chat, "chat_history") == 4
    assert pyidsql.next_id(chat, "chat_history") == 5
    chat.execute("DELETE FROM chat_history")
    assert pyidsql.initialize_table(chat, "chat_history") == 6
    assert pyidsql.initialize_table(chat, "chat_history") == 6, "not idempotent"
    assert pyidsql.next_id(chat, "chat_history") == 6


def test_next_id_custom_tables_have_their_own_counters(chat: Conn) -> None:
    chat.execute("CREATE SCHEMA app")
    chat.execute('CREATE TABLE app."Custom Logs" (log_no integer PRIMARY KEY, message text)')
    chat.execute("CREATE TABLE feedback (id smallint PRIMARY KEY, rating integer)")
    assert pyidsql.initialize_table(chat, 'app."Custom Logs"', id_column="log_no", initial_value=10) == 10
    assert pyidsql.next_id(chat, 'app."Custom Logs"') == 10
    assert pyidsql.next_id(chat, "feedback") == 1
    assert pyidsql.next_id(chat, "chat_history") == 1
    assert pyidsql.next_id(chat, 'app."Custom Logs"') == 11
    row = pyidsql.insert_with_retry(chat, 'app."Custom Logs"', {"message": "log entry"})
    assert row == {"log_no": 12, "message": "log entry"}
    counters = chat.execute(
        "SELECT table_name::text, id_column::text, pg_sequence_last_value(seq) FROM idsql.table_counter ORDER BY 1"
    ).fetchall()
    assert counters == [('app."Custom Logs"', "log_no", 12), ("chat_history", "id", 1), ("feedback", "id", 1)]


def test_next_id_rollback_leaves_a_hole(connect: Any) -> None:
    c = connect()
    c.execute(CHAT_HISTORY)
    pyidsql.initialize_table(c, "chat_history")  # registered and committed: the sequence stays
    c.commit()
    assert pyidsql.next_id(c, "chat_history") == 1
    assert pyidsql.insert_with_retry(c, "chat_history", {"user_id": "gone"})["id"] == 2
    c.rollback()
    # Like a serial column: the sequence is not rolled back, so 1 and 2 are never issued again.
    assert pyidsql.next_id(c, "chat_history") == 3
    assert pyidsql.insert_with_retry(c, "chat_history", {"user_id": "kept"})["id"] == 4
    c.commit()
    assert ids(c) == [4]


def test_next_id_explicit_id_far_ahead_moves_the_sequence_past_it(chat: Conn) -> None:
    # Past what _advance_sequence burns with nextval(): the locked setval() path.
    assert pyidsql.next_id(chat, "chat_history") == 1
    insert_ids(chat, 5_000_000_000)
    assert pyidsql.next_id(chat, "chat_history") == 5_000_000_001
    assert pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "u"})["id"] == 5_000_000_002
    # Within the burst limit: nextval() burns the values in between.
    insert_ids(chat, 5_000_090_000)
    assert pyidsql.next_id(chat, "chat_history") == 5_000_090_001


def test_next_id_never_moves_the_sequence_back(chat: Conn) -> None:
    assert [pyidsql.next_id(chat, "chat_history") for _ in range(3)] == [1, 2, 3]
    # Nothing in the table and a low initial value: the sequence stays where it is.
    assert pyidsql.initialize_table(chat, "chat_history", initial_value=2) == 4
    assert pyidsql.initialize(chat) == {"chat_history": 4}
    chat.execute("SELECT idsql._advance_sequence(seq, 1) FROM idsql.table_counter")
    assert pyidsql.next_id(chat, "chat_history") == 4


def test_initialize_table_creates_a_sequence_per_table(chat: Conn) -> None:
    chat.execute("CREATE TABLE feedback (id integer PRIMARY KEY, rating integer)")
    pyidsql.initialize_table(chat, "chat_history", initial_value=1000)
    pyidsql.next_id(chat, "feedback")
    rows = chat.execute(
        "SELECT c.table_name::text, c.seq::text, obj_description(c.seq, 'pg_class'), pg_sequence_last_value(c.seq)"
        " FROM idsql.table_counter AS c ORDER BY 1"
    ).fetchall()
    oids = dict(
        chat.execute(
            "SELECT relname::text, oid::text FROM pg_class WHERE relname IN ('chat_history', 'feedback')"
        ).fetchall()
    )
    assert rows == [
        (
            "chat_history",
            f"idsql.table_{oids['chat_history']}_seq",
            "IDs of table public.chat_history (see idsql.table_counter).",
            999,
        ),
        (
            "feedback",
            f"idsql.table_{oids['feedback']}_seq",
            "IDs of table public.feedback (see idsql.table_counter).",
            1,
        ),
    ]


def test_initialize_table_takes_over_a_leftover_sequence_forward_only(chat: Conn) -> None:
    assert [pyidsql.next_id(chat, "chat_history") for _ in range(5)] == [1, 2, 3, 4, 5]
    seq = scalar(chat, "SELECT seq::text FROM idsql.table_counter")
    chat.execute("DELETE FROM idsql.table_counter")
    # Registered again: the leftover sequence (at 5) is reused, never rewound to 1.
    assert pyidsql.initialize_table(chat, "chat_history") == 6
    assert scalar(chat, "SELECT seq::text FROM idsql.table_counter") == seq
    assert pyidsql.next_id(chat, "chat_history") == 6


def test_next_id_from_sql(chat: Conn) -> None:
    insert_ids(chat, 41)
    assert scalar(chat, "SELECT idsql.next_id('chat_history')") == 42
    assert scalar(chat, "SELECT idsql.next_id('public.chat_history'::regclass)") == 43


# -- initialize --------------------------------------------------------------------------------


def test_initialize_resyncs_every_registered_table(chat: Conn) -> None:
    chat.execute("CREATE TABLE feedback (id integer PRIMARY KEY, rating integer)")
    chat.execute("CREATE TABLE request_metrics (id bigint PRIMARY KEY)")
    assert pyidsql.initialize(chat) == {}
    pyidsql.initialize_table(chat, "chat_history")
    pyidsql.initialize_table(chat, "feedback", initial_value=500)
    insert_ids(chat, 7)
    chat.execute("INSERT INTO feedback VALUES (900, 5)")
    assert pyidsql.initialize(chat) == {"chat_history": 8, "feedback": 901}
    # Given tables: re-synced, and registered if new; the others are left alone.
    assert pyidsql.initialize(chat, ["request_metrics", "feedback"]) == {"feedback": 901, "request_metrics": 1}
    assert pyidsql.IDManager(chat).initialize() == {"chat_history": 8, "feedback": 901, "request_metrics": 1}


def test_initialize_forgets_dropped_tables(chat: Conn) -> None:
    chat.execute("CREATE TABLE gone (id integer PRIMARY KEY)")
    pyidsql.initialize_table(chat, "gone")
    pyidsql.initialize_table(chat, "chat_history")
    chat.execute("DROP TABLE gone")
    assert pyidsql.initialize(chat) == {"chat_history": 1}
    assert scalar(chat, "SELECT count(*) FROM idsql.table_counter") == 1
    # The sequence of the dropped table went with its counter.
    assert (
        scalar(
            chat,
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'idsql'::regnamespace AND relkind = 'S'"
            " AND relname LIKE 'table%%'",
        )
        == 1
    )


def test_initialize_rejects_null_in_the_list(chat: Conn) -> None:
    with pytest.raises(pg_errors.NullValueNotAllowed), chat.transaction():
        chat.execute("SELECT * FROM idsql.initialize(ARRAY['chat_history', NULL]::regclass[])")


# -- insert_with_retry -------------------------------------------------------------------------


def test_insert_with_retry_returns_the_row_with_its_defaults(chat: Conn) -> None:
    row = pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "user123", "query": "Hello", "response": "Hi!"})
    assert set(row) == {"id", "user_id", "query", "response", "domain", "created_at"}
    assert row["id"] == 1
    assert row["domain"] == "general"  # absent from data: the column default
    assert dt.datetime.fromisoformat(row["created_at"]) == scalar(chat, "SELECT created_at FROM chat_history")
    # A key given as null is NULL, not the default.
    row = pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "u", "query": None})
    assert (row["id"], row["query"]) == (2, None)
    assert ids(chat) == [1, 2]


def test_insert_with_retry_types_values_through_the_row_type(chat: Conn) -> None:
    chat.execute(
        """CREATE TABLE typed (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n integer,
           amount numeric(10, 2), at timestamptz, day date, tags text[], meta jsonb, ok boolean,
           total numeric GENERATED ALWAYS AS (amount * n) STORED)"""
    )
    data = {
        "n": "3",
        "amount": Decimal("1.50"),
        "at": dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC),
        "day": dt.date(2024, 5, 2),
        "tags": ["a", "b"],
        "meta": {"k": [1, 2]},
        "ok": True,
    }
    row = pyidsql.insert_with_retry(chat, "typed", data)
    assert row["id"] == 1
    assert row["total"] == 4.5
    stored = chat.execute("SELECT n, amount, at, day, tags, meta, ok FROM typed").fetchone()
    assert stored == (3, Decimal("1.50"), data["at"], data["day"], ["a", "b"], {"k": [1, 2]}, True)


def test_insert_with_retry_from_sql(chat: Conn) -> None:
    row = scalar(chat, """SELECT idsql.insert_with_retry('chat_history', '{"user_id": "sql"}')""")
    assert (row["id"], row["user_id"]) == (1, "sql")
    assert scalar(chat, "SELECT idsql.insert_with_retry('chat_history', '{\"user_id\": \"x\"}', 1) ->> 'id'") == "2"


def test_insert_with_retry_unknown_columns_are_named(chat: Conn) -> None:
    with pytest.raises(pg_errors.UndefinedColumn) as excinfo, chat.transaction():
        pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "u", "usr": 1, "Query": "x"})
    diag = excinfo.value.diag
    assert diag.message_primary == 'columns "Query", "usr" of relation "public.chat_history" do not exist'
    assert diag.message_detail == 'Keys of data that are not columns of public.chat_history: "Query", "usr".'
    assert diag.message_hint is not None
    missing = r'column "usr" of relation "public\.chat_history" does not exist'
    with pytest.raises(pg_errors.UndefinedColumn, match=missing), chat.transaction():
        pyidsql.insert_with_retry(chat, "chat_history", {"usr": 1})
    # A key longer than a name is not truncated into a match.
    with pytest.raises(pg_errors.UndefinedColumn), chat.transaction():
        pyidsql.insert_with_retry(chat, "chat_history", {"user_id" + "x" * 70: "u"})
    assert ids(chat) == []


def test_insert_with_retry_wrong_types_are_errors(chat: Conn) -> None:
    chat.execute("CREATE TABLE feedback (id integer PRIMARY KEY, rating integer NOT NULL)")
    with pytest.raises(pg_errors.InvalidTextRepresentation, match='integer: "five"'), chat.transaction():
        pyidsql.insert_with_retry(chat, "feedback", {"rating": "five"})
    with pytest.raises(pg_errors.InvalidTextRepresentation), chat.transaction():
        pyidsql.insert_with_retry(chat, "feedback", {"rating": {"stars": 5}})
    with pytest.raises(pg_errors.NotNullViolation), chat.transaction():
        pyidsql.insert_with_retry(chat, "feedback", {})
    with pytest.raises(pg_errors.InvalidParameterValue, match="must be a JSON object"), chat.transaction():
        chat.execute("SELECT idsql.insert_with_retry('feedback', '[1]')")
    assert ids(chat, "feedback") == []


def test_insert_with_retry_missing_table(chat: Conn) -> None:
    with pytest.raises(pg_errors.UndefinedTable, match='relation "chat_histroy" does not exist'), chat.transaction():
        pyidsql.insert_with_retry(chat, "chat_histroy", {"user_id": "u"})
    with pytest.raises(pg_errors.UndefinedTable), chat.transaction():
        pyidsql.IDManager(chat).insert_with_retry("chat_histroy", {"user_id": "u"})


def test_insert_with_retry_refuses_the_id_and_generated_columns(chat: Conn) -> None:
    chat.execute(
        "CREATE TABLE t (id integer PRIMARY KEY, n integer, twice integer GENERATED ALWAYS AS (n * 2) STORED,"
        " seq integer GENERATED ALWAYS AS IDENTITY)"
    )
    with pytest.raises(errors.IdInData) as excinfo, chat.transaction():
        pyidsql.insert_with_retry(chat, "t", {"id": 5, "n": 1})
    assert excinfo.value.hint == 'Remove "id" from data, or insert the row with a plain INSERT if it needs that ID.'
    with pytest.raises(pg_errors.GeneratedAlways, match='column "twice"'), chat.transaction():
        pyidsql.insert_with_retry(chat, "t", {"n": 1, "twice": 2})
    with pytest.raises(pg_errors.GeneratedAlways, match='column "seq"'), chat.transaction():
        pyidsql.insert_with_retry(chat, "t", {"n": 1, "seq": 2})
    assert pyidsql.insert_with_retry(chat, "t", {"n": 4}) == {"id": 1, "n": 4, "twice": 8, "seq": 1}


def test_insert_with_retry_conflict_on_another_unique_column_raises(chat: Conn) -> None:
    chat.execute("CREATE TABLE account (id integer PRIMARY KEY, email text UNIQUE)")
    pyidsql.insert_with_retry(chat, "account", {"email": "a@example.com"})
    with pytest.raises(pg_errors.UniqueViolation) as excinfo, chat.transaction():
        pyidsql.insert_with_retry(chat, "account", {"email": "a@example.com"})
    assert excinfo.value.diag.constraint_name == "account_email_key"
    assert ids(chat, "account") == [1]
    assert scalar(chat, "SELECT conflicts FROM idsql.table_counter") == 0


def test_insert_with_retry_bad_retry_attempts(chat: Conn) -> None:
    with pytest.raises(pg_errors.InvalidParameterValue, match="invalid retry_attempts 0"), chat.transaction():
        pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "u"}, retry_attempts=0)


def test_insert_with_retry_through_sqlalchemy(dsn: str) -> None:
    engine = sa.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(dsn))
    try:
        with Session(engine) as session:
            session.execute(sa.text("CREATE TABLE note (id integer PRIMARY KEY, body text DEFAULT 'empty')"))
            assert pyidsql.insert_with_retry(session, "note", {}) == {"id": 1, "body": "empty"}
            assert pyidsql.next_id(session, "note") == 2
            session.commit()
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT body FROM note WHERE id = 1")).scalar_one() == "empty"
    finally:
        engine.dispose()


# -- insert_with_retry and next_id: the statements they prepare ------------------------------


def prepared(conn: Conn) -> list[str]:
    """Return the statements idsql prepared in this session, by kind: ['insert', 'next', ...]."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT split_part(name, '_', 2) FROM pg_prepared_statements WHERE name LIKE 'idsql\\_%' ORDER BY 1"
        )
    ]


def test_insert_with_retry_prepares_once_per_table_and_keys(chat: Conn) -> None:
    for n in range(3):
        pyidsql.insert_with_retry(chat, "chat_history", {"user_id": f"u{n}", "query": "q"})
    assert prepared(chat) == ["insert"]
    # The same keys in another order are the same statement; other keys are another.
    pyidsql.insert_with_retry(chat, "chat_history", {"query": "q", "user_id": "u3"})
    row = pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "u4"})
    assert (row["id"], row["query"]) == (5, None)
    assert pyidsql.next_id(chat, "chat_history") == 6
    assert prepared(chat) == ["insert", "insert", "next"]
    # A statement prepared for valid keys does not let unknown ones through later.
    with pytest.raises(pg_errors.UndefinedColumn, match='column "usr"'), chat.transaction():
        pyidsql.insert_with_retry(chat, "chat_history", {"usr": "u"})
    assert ids(chat) == [1, 2, 3, 4, 5]


def test_insert_with_retry_keeps_at_most_32_statements_per_session(chat: Conn) -> None:
    # Every combination of the optional keys is a statement of its own: 2^3 per kind of row here,
    # 40 combinations in all, more than a session keeps.
    chat.execute("ALTER TABLE chat_history ADD COLUMN a text, ADD COLUMN b text")
    optional = ["query", "response", "domain", "a", "b"]
    combos = [[k for i, k in enumerate(optional) if mask >> i & 1] for mask in range(40)]
    for n, keys in enumerate(combos, start=1):
        row = pyidsql.insert_with_retry(chat, "chat_history", {"user_id": f"u{n}", **{k: f"{k}{n}" for k in keys}})
        assert row["id"] == n
        assert {k: row[k] for k in keys} == {k: f"{k}{n}" for k in keys}
        assert len(prepared(chat)) == min(n, 32)
    # A set of keys whose statement was deallocated is prepared again.
    row = pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "again"})
    assert (row["id"], row["query"], row["domain"]) == (41, None, "general")
    assert prepared(chat) == ["insert"] * 32
    assert scalar(chat, "SELECT count(*) FROM chat_history") == 41


def test_insert_with_retry_prepares_again_after_deallocate_and_discard(chat: Conn) -> None:
    assert pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "a"})["id"] == 1
    assert pyidsql.next_id(chat, "chat_history") == 2
    chat.execute("DEALLOCATE ALL")
    assert prepared(chat) == []
    assert pyidsql.insert_with_retry(chat, "chat_history", {"user_id": "b"})["id"] == 3
    assert pyidsql.next_id(chat, "chat_history") == 4
    assert prepared(chat) == ["insert", "next"]


def test_insert_with_retry_prepared_in_a_rolled_back_transaction(connect: Any) -> None:
    c = connect()
    c.execute(CHAT_HISTORY)
    pyidsql.initialize_table(c, "chat_history")
    c.commit()
    pyidsql.insert_with_retry(c, "chat_history", {"user_id": "gone"})
    c.rollback()  # the statement outlives the transaction, the row does not
    assert prepared(c) == ["insert"]
    assert pyidsql.insert_with_retry(c, "chat_history", {"user_id": "kept"})["id"] == 2
    c.commit()
    assert [r[0] for r in c.execute("SELECT user_id FROM chat_history")] == ["kept"]
    # A table registered in a transaction that rolls back takes its sequence with it; the
    # statement prepared for it finds the new one of the same name.
    c.execute("CREATE TABLE feedback (id integer PRIMARY KEY, rating integer)")
    c.commit()
    assert pyidsql.insert_with_retry(c, "feedback", {"rating": 1})["id"] == 1
    c.rollback()
    assert pyidsql.insert_with_retry(c, "feedback", {"rating": 2})["id"] == 1
    c.commit()
    assert pyidsql.insert_with_retry(c, "feedback", {"rating": 3})["id"] == 2


def test_insert_with_retry_follows_the_table_after_ddl(chat: Conn) -> None:
    data = {"user_id": "u", "query": "q"}
    assert pyidsql.insert_with_retry(chat, "chat_history", data)["id"] == 1
    chat.execute("ALTER TABLE chat_history ADD COLUMN lang text NOT NULL DEFAULT 'en'")
    assert pyidsql.insert_with_retry(chat, "chat_history", data)["lang"] == "en"
    chat.execute("ALTER TABLE chat_history RENAME TO conversation")
    assert pyidsql.insert_with_retry(chat, "conversation", data)["id"] == 3
    with pytest.raises(pg_errors.UndefinedTable), chat.transaction():
        pyidsql.insert_with_retry(chat, "chat_history", data)
    # A column the prepared statement names is gone: PostgreSQL says so, nothing is inserted.
    chat.execute("ALTER TABLE conversation DROP COLUMN query")
    with pytest.raises(pg_errors.UndefinedColumn, match='"query"'), chat.transaction():
        pyidsql.insert_with_retry(chat, "conversation", data)
    row = pyidsql.insert_with_retry(chat, "conversation", {"user_id": "v"})
    assert ids(chat, "conversation") == [1, 2, 3, row["id"]] and row["id"] > 3


def test_insert_with_retry_registered_id_column_dropped(chat: Conn) -> None:
    chat.execute("CREATE TABLE log (log_id integer UNIQUE, id integer, msg text)")
    pyidsql.initialize_table(chat, "log", id_column="log_id")
    assert pyidsql.insert_with_retry(chat, "log", {"msg": "a"})["log_id"] == 1
    chat.execute("ALTER TABLE log DROP COLUMN log_id")
    dropped = r'column "log_id" of relation "public\.log" does not exist'
    with pytest.raises(pg_errors.UndefinedColumn, match=dropped) as excinfo, chat.transaction():
        pyidsql.insert_with_retry(chat, "log", {"msg": "b"})
    assert excinfo.value.diag.message_hint is not None
    assert scalar(chat, "SELECT count(*) FROM log") == 1


def test_insert_with_retry_prepared_statement_runs_with_the_callers_privileges(connect: Any) -> None:
    role = f"idsql_test_reader_{uuid.uuid4().hex[:8]}"
    c = connect(autocommit=True)
    c.execute(CHAT_HISTORY)
    c.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    try:
        grants = "GRANT USAGE ON SCHEMA idsql TO {0}; GRANT SELECT ON idsql.table_counter, chat_history TO {0}"
        c.execute(sql.SQL(grants).format(sql.Identifier(role)))
        assert pyidsql.insert_with_retry(c, "chat_history", {"user_id": "owner"})["id"] == 1
        c.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        with pytest.raises(pg_errors.InsufficientPrivilege, match="chat_history"):
            pyidsql.insert_with_retry(c, "chat_history", {"user_id": "reader"})
        c.execute("RESET ROLE")
        assert ids(c) == [1]
    finally:
        c.execute("RESET ROLE")
        c.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(role)))


# -- initialize_table: what it refuses ---------------------------------------------------------


def test_initialize_table_errors_are_clear(chat: Conn) -> None:
    chat.execute("CREATE TABLE no_unique (id integer)")
    chat.execute("CREATE TABLE text_id (id text PRIMARY KEY)")
    chat.execute("CREATE TABLE partial (id integer)")
    chat.execute("CREATE UNIQUE INDEX ON partial (id) WHERE id > 0")
    chat.execute("CREATE VIEW v AS SELECT * FROM chat_history")
    with pytest.raises(pg_errors.UndefinedTable), chat.transaction():
        pyidsql.initialize_table(chat, "missing")
    missing = r'column "no_id" of relation "public\.chat_history"'
    with pytest.raises(pg_errors.UndefinedColumn, match=missing), chat.transaction():
        pyidsql.initialize_table(chat, "chat_history", id_column="no_id")
    with pytest.raises(pg_errors.DatatypeMismatch, match="not an integer column"), chat.transaction():
        pyidsql.initialize_table(chat, "text_id")
    for table in ("no_unique", "partial"):
        with pytest.raises(errors.IdColumnNotUnique) as excinfo, chat.transaction():
            pyidsql.initialize_table(chat, table)
        assert excinfo.value.hint == f"Make it the primary key, or run CREATE UNIQUE INDEX ON public.{table} (id)."
    with pytest.raises(pg_errors.WrongObjectType, match=r'"public\.v" is not a table'), chat.transaction():
        pyidsql.initialize_table(chat, "v")
    with pytest.raises(pg_errors.InvalidParameterValue, match="invalid initial value 0"), chat.transaction():
        pyidsql.initialize_table(chat, "chat_history", initial_value=0)
    with pytest.raises(pg_errors.NullValueNotAllowed), chat.transaction():
        chat.execute("SELECT idsql.next_id(NULL)")
    assert scalar(chat, "SELECT count(*) FROM idsql.table_counter") == 0


def test_initialize_table_partitioned_and_identity_tables(chat: Conn) -> None:
    chat.execute("CREATE TABLE part (id bigint PRIMARY KEY, v text) PARTITION BY RANGE (id)")
    chat.execute("CREATE TABLE part_low PARTITION OF part FOR VALUES FROM (1) TO (1000)")
    chat.execute("CREATE TABLE part_high PARTITION OF part FOR VALUES FROM (1000) TO (MAXVALUE)")
    chat.execute("INSERT INTO part VALUES (999, 'x')")
    assert pyidsql.initialize_table(chat, "part") == 1000
    assert pyidsql.insert_with_retry(chat, "part", {"v": "y"}) == {"id": 1000, "v": "y"}
    assert scalar(chat, "SELECT tableoid::regclass::text FROM part WHERE id = 1000") == "part_high"


# -- IDManager: the original interface ---------------------------------------------------------


def test_id_manager_original_usage(chat: Conn) -> None:
    manager = IDManager(chat, initial_value=1, retry_attempts=3)
    insert_ids(chat, 1, 2, 5, 7)
    assert manager.initialize() == {}
    assert manager.initialize_table("chat_history") == 8
    assert manager.initialize() == {"chat_history": 8}
    assert manager.next_id("chat_history") == 8
    result = manager.insert_with_retry(
        "chat_history", {"user_id": "user123", "query": "What is Python?", "response": "A language."}
    )
    assert result is not None
    assert (result["id"], result["user_id"], result["domain"]) == (9, "user123", "general")


def test_id_manager_initial_value_applies_on_first_use(chat: Conn) -> None:
    chat.execute("CREATE TABLE feedback (id integer PRIMARY KEY, rating integer)")
    manager = IDManager(chat, initial_value=1000)
    assert manager.next_id("chat_history") == 1000
    assert manager.next_id("chat_history") == 1001
    row = manager.insert_with_retry("feedback", {"rating": 5}, raise_on_failure=True)
    assert row == {"id": 1000, "rating": 5}
    # Already registered: the initial value does not pull a counter anywhere.
    insert_ids(chat, 5000)
    assert manager.next_id("chat_history") == 5001


def test_id_manager_errors_raise_even_without_raise_on_failure(chat: Conn, caplog: Any) -> None:
    manager = IDManager(chat)
    with caplog.at_level(logging.ERROR), pytest.raises(pg_errors.UndefinedColumn), chat.transaction():
        manager.insert_with_retry("chat_history", {"nope": 1})
    with pytest.raises(pg_errors.InvalidDatetimeFormat), chat.transaction():
        manager.insert_with_retry("chat_history", {"user_id": "u", "created_at": "yesterday-ish"})
    assert "chat_history" not in caplog.text


# -- async twins -------------------------------------------------------------------------------


async def test_async_twins_table_ids(aconn: psycopg.AsyncConnection[Any], caplog: Any) -> None:
    aio = pyidsql.aio
    await aconn.execute(CHAT_HISTORY)
    await aconn.execute("INSERT INTO chat_history (id, user_id) VALUES (1, 'u'), (2, 'u'), (5, 'u'), (7, 'u')")
    assert await aio.initialize_table(aconn, "chat_history") == 8
    assert await aio.next_id(aconn, "chat_history") == 8
    row = await aio.insert_with_retry(aconn, "chat_history", {"user_id": "async"})
    assert (row["id"], row["domain"]) == (9, "general")
    assert await aio.initialize(aconn) == {"chat_history": 10}
    assert await aio.initialize(aconn, ["chat_history"]) == {"chat_history": 10}

    await aconn.execute("CREATE TABLE feedback (id integer PRIMARY KEY, rating integer)")
    manager = aio.AsyncIDManager(aconn, initial_value=1000)
    assert await manager.next_id("feedback") == 1000
    assert await manager.insert_with_retry("feedback", {"rating": 4}) == {"id": 1001, "rating": 4}
    row = await manager.insert_with_retry("feedback", {"rating": 3}, raise_on_failure=True)
    assert row == {"id": 1002, "rating": 3}
    assert await manager.initialize_table("feedback") == 1003
    assert await manager.initialize() == {"chat_history": 10, "feedback": 1003}
    with pytest.raises(pg_errors.UndefinedColumn):
        await manager.insert_with_retry("feedback", {"stars": 4})


# -- install over an install from before the sequences -----------------------------------------

OLD_TABLE_COUNTER = """
CREATE TABLE idsql.table_counter (
    table_name regclass PRIMARY KEY,
    id_column name NOT NULL DEFAULT 'id',
    initial_value bigint NOT NULL DEFAULT 1,
    last_value bigint NOT NULL DEFAULT 0,
    conflicts bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""


def test_install_gives_counters_of_an_older_install_their_sequences(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(CHAT_HISTORY)
        c.execute("CREATE TABLE feedback (id integer PRIMARY KEY)")
        c.execute("DROP TABLE idsql.table_counter")
        c.execute(OLD_TABLE_COUNTER)
        c.execute(
            "INSERT INTO idsql.table_counter (table_name, last_value) VALUES ('chat_history', 41), ('feedback', 0)"
        )
        # Such a layout predates the first release: it calls itself 0.1.0, and the step to 0.2.0 upgrades it.
        c.execute("UPDATE idsql.installation SET version = '0.1.0'")
        pyidsql.install.install(c)
        columns = [
            r[0]
            for r in c.execute(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = 'idsql.table_counter'::regclass"
                " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            )
        ]
        assert "last_value" not in columns and "seq" in columns
        assert pyidsql.next_id(c, "chat_history") == 42
        assert pyidsql.next_id(c, "feedback") == 1
        pyidsql.install.install(c)  # and again: nothing left to upgrade
        assert pyidsql.next_id(c, "chat_history") == 43
