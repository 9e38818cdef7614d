"""What every client test shares: one schema, the calls each driver makes, and psycopg 3 as the reference.

Each driver runs the same calls (``CALLS``) against a fresh database with ``SCHEMA``, and its
errors must carry what psycopg 3 reads from the server for the same statement: SQLSTATE, message,
DETAIL and HINT (``reference_errors``).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pyidsql.testing import new_database

SCHEMA = """
CREATE TABLE account (id text PRIMARY KEY DEFAULT idsql.generate_id('ACC'), name text NOT NULL,
                      state_version bigint NOT NULL DEFAULT 1);
SELECT idsql.enable_state_version('account', history => true);
CREATE TABLE ticket (id bigint PRIMARY KEY, title text);
SELECT idsql.initialize_table('ticket');
CREATE TABLE item (id serial PRIMARY KEY, name text);
INSERT INTO item (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TABLE project (id text PRIMARY KEY, name text NOT NULL);
SELECT idsql.set_id_strategy('project', 'server', 'prefix:PRJ');
"""

# One call per capability a client reaches, each returning one text value: every driver must get
# what psycopg 3 gets (``reference_calls``). Run in this order, after the shared calls.
CALLS = [
    ("table id", "SELECT idsql.next_id('ticket')::text"),
    ("insert with retry", "SELECT idsql.insert_with_retry('ticket', '{\"title\": \"t\"}') ->> 'id'"),
    ("sequence report", "SELECT status FROM idsql.sequence_report() WHERE table_name = 'item'::regclass"),
    ("sequence fix", "SELECT idsql.fix_sequence('item', 'id')::text"),
    (
        "temporary id",
        "INSERT INTO project (id, name) VALUES (idsql.new_temp_id('project'), 'Launch')"
        " RETURNING idsql.is_temp_id('project', id)::text",
    ),
    ("server id", "SELECT idsql.assign_server_id('project', id) FROM project"),
    ("parse id", "SELECT (idsql.parse_id('ACC-AAB0001')).ordinal::text"),
]

# The statements whose errors each driver must report in full, by name.
ERRORS = {
    # A stale version: account row 'ACC-AAA0001' is at version 2 when this runs.
    "stale": "UPDATE account SET name = 'late', state_version = 1 WHERE id = 'ACC-AAA0001'",
    "invalid_id": "SELECT idsql.parse_id('CUS-AA1')",
}


@pytest.fixture
def client_dsn(dsn: str) -> str:
    """A fresh database with idsql and SCHEMA; account 'ACC-AAA0001' is for the stale write."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(SCHEMA)
    return dsn


@pytest.fixture(scope="session")
def reference_errors(idsql_server: Any, idsql_template: str) -> dict[str, tuple[str, str, str | None, str | None]]:
    """SQLSTATE, message, DETAIL and HINT of each statement in ERRORS, as psycopg 3 reads them."""
    out: dict[str, tuple[str, str, str | None, str | None]] = {}
    with new_database(idsql_server, template=idsql_template) as dsn, psycopg.connect(dsn) as c:
        c.execute(SCHEMA)
        c.execute("INSERT INTO account (name) VALUES ('first')")
        c.commit()
        c.execute("UPDATE account SET name = 'second' WHERE id = 'ACC-AAA0001'")
        c.commit()
        for name, statement in ERRORS.items():
            with pytest.raises(psycopg.Error) as caught:
                c.execute(statement)
            c.rollback()
            d = caught.value.diag
            assert caught.value.sqlstate and d.message_primary
            out[name] = (caught.value.sqlstate, d.message_primary, d.message_detail, d.message_hint)
        c.rollback()
    # The reference itself has what a user needs: our own class, and a DETAIL and HINT.
    assert all(e[0].startswith("ID") and e[2] and e[3] for e in out.values()), out
    return out


@pytest.fixture(scope="session")
def reference_calls(idsql_server: Any, idsql_template: str) -> list[str]:
    """The value of each call in CALLS, as psycopg 3 gets it on a database with SCHEMA."""
    with new_database(idsql_server, template=idsql_template) as dsn, psycopg.connect(dsn, autocommit=True) as c:
        c.execute(SCHEMA)
        values = []
        for _, statement in CALLS:
            row = c.execute(statement).fetchone()
            assert row is not None and isinstance(row[0], str)
            values.append(row[0])
    assert values[:2] == ["1", "2"] and values[5] == "PRJ-AAA0001", values
    return values


# What each driver's run of the calls leaves (see the tests): the first account changed once, three
# more inserted in one batch, one ID drawn between, a no-op UPDATE of all four that counted for nothing.
FINAL = [
    ("ACC-AAA0001", "second", 2),
    ("ACC-AAA0002", "b1", 1),
    ("ACC-AAA0003", "b2", 1),
    ("ACC-AAA0004", "b3", 1),
    (5,),
]


def row_versions(dsn: str) -> list[tuple[Any, ...]]:
    """Each account's id and version, and the history entries of the table, to compare drivers by."""
    with psycopg.connect(dsn) as c:
        rows = c.execute("SELECT id, name, state_version FROM account ORDER BY id").fetchall()
        history = c.execute("SELECT count(*) FROM idsql.row_version").fetchone()
    return [*rows, history]
