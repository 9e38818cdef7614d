"""What the typed history writer of issue 22 will rely on PostgreSQL for (docs/design/typed-history.md).

The writer checks the columns of its table in a condition PostgreSQL evaluates once, while it
plans the statement: an ``IMMUTABLE`` function of constants in the ``WHERE`` of the ``INSERT``
that copies a statement trigger's transition table. That costs nothing per statement only if the
plan is kept between statements, and it is safe only if every ``ALTER TABLE`` of the table (or
of the history table) makes PostgreSQL plan the statement again. This test holds both on every
server the suite runs on, with a condition that counts its evaluations. (Other events can plan
it again too, such as an ANALYZE that changes the table's size in the catalog: one more check,
which is harmless.)
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

SETUP = """
CREATE TABLE planned (id integer PRIMARY KEY, n integer, note text);
INSERT INTO planned VALUES (1, 1, 'a'), (2, 2, 'b');
CREATE TABLE planned_history (id integer, n integer);
CREATE SEQUENCE planned_checks;
-- Counts its evaluations; a sequence, because it survives the statement and is not rolled back.
CREATE FUNCTION planned_check(regclass, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_catalog.nextval('public.planned_checks') > 0
$$;
CREATE FUNCTION planned_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO planned_history (id, n)
    SELECT r.id, r.n FROM planned_new AS r WHERE planned_check('planned'::regclass, 'columns');
    RETURN NULL;
END
$$;
CREATE TRIGGER planned_record AFTER UPDATE ON planned REFERENCING NEW TABLE AS planned_new
    FOR EACH STATEMENT EXECUTE FUNCTION planned_record();
CREATE TABLE unrelated (id integer);
"""

UPDATE = "UPDATE planned SET n = n + 1 WHERE id = 1"


def _checks(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT last_value FROM planned_checks").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("ddl", "plans_again"),
    [
        ("ALTER TABLE planned ADD COLUMN added integer", True),
        ("ALTER TABLE planned RENAME COLUMN note TO renamed", True),
        ("ALTER TABLE planned ALTER COLUMN note TYPE varchar(20)", True),
        ("ALTER TABLE planned DROP COLUMN note", True),
        ("ALTER TABLE planned_history ADD COLUMN added integer", True),
        ("ALTER TABLE unrelated ADD COLUMN added integer", False),
    ],
)
def test_the_writer_is_planned_again_after_each_alter_table_of_its_tables_and_only_then(
    empty_dsn: str, ddl: str, plans_again: bool
) -> None:
    with psycopg.connect(empty_dsn, autocommit=True) as writer, psycopg.connect(empty_dsn, autocommit=True) as other:
        writer.execute(SETUP)
        for _ in range(3):
            writer.execute(UPDATE)
        planned = _checks(writer)
        assert planned >= 1
        writer.execute(UPDATE)
        assert _checks(writer) == planned, "the check ran again without a change: it would cost every statement"

        other.execute(ddl)
        writer.execute(UPDATE)
        assert (_checks(writer) > planned) is plans_again
        assert writer.execute("SELECT count(*) FROM planned_history").fetchone() == (5,)


def test_an_alter_table_earlier_in_the_same_transaction_plans_the_writer_again(empty_dsn: str) -> None:
    with psycopg.connect(empty_dsn) as writer:
        writer.execute(SETUP)
        writer.commit()
        writer.execute(UPDATE)
        writer.execute(UPDATE)
        planned = _checks(writer)
        writer.execute("ALTER TABLE planned ADD COLUMN added integer")
        writer.execute(UPDATE)
        assert _checks(writer) > planned
        writer.rollback()


def test_a_failing_check_fails_the_write_and_records_nothing(empty_dsn: str) -> None:
    with psycopg.connect(empty_dsn, autocommit=True) as writer, psycopg.connect(empty_dsn, autocommit=True) as other:
        writer.execute(SETUP.replace("'columns');", "'columns') AND planned_refuse();"))
        writer.execute(
            "CREATE FUNCTION planned_refuse() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$"
            " BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_attribute WHERE attrelid = 'public.planned'::regclass"
            " AND attname = 'added' AND NOT attisdropped) THEN"
            " RAISE EXCEPTION 'columns changed' USING ERRCODE = 'ID001'; END IF; RETURN true; END $$"
        )
        writer.execute(UPDATE)
        other.execute("ALTER TABLE planned ADD COLUMN added integer")
        with pytest.raises(psycopg.Error) as failed:
            writer.execute(UPDATE)
        assert failed.value.sqlstate == "ID001"
        assert writer.execute("SELECT n FROM planned WHERE id = 1").fetchone() == (2,)
        assert writer.execute("SELECT count(*) FROM planned_history").fetchone() == (1,)
