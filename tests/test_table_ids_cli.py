"""The pyidsql command for table IDs: next-id --table, on a real database."""

from __future__ import annotations

import psycopg
import pytest

import pyidsql
from pyidsql.tooling.cli import main


@pytest.fixture
def chat_dsn(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE chat_history (id bigint PRIMARY KEY, user_id text)")
        conn.execute("INSERT INTO chat_history VALUES (1, 'u'), (2, 'u'), (5, 'u'), (7, 'u')")
    return dsn


def test_next_id_table_prints_and_commits(chat_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "--table", "chat_history", "--dsn", chat_dsn]) == 0
    assert main(["next-id", "--table", "public.chat_history", "-n", "3", "--dsn", chat_dsn]) == 0
    assert capsys.readouterr().out.split() == ["8", "9", "10", "11"]
    with psycopg.connect(chat_dsn) as conn:
        assert pyidsql.next_id(conn, "chat_history") == 12


def test_next_id_table_missing_table(chat_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "--table", "chat_histroy", "--dsn", chat_dsn]) == 2
    assert 'relation "chat_histroy" does not exist' in capsys.readouterr().err


def test_next_id_table_without_unique_index_prints_the_hint(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE loose (id integer)")
    assert main(["next-id", "--table", "loose", "--dsn", dsn]) == 2
    err = capsys.readouterr().err
    assert 'pyidsql: ERROR:  ID102: column "id" of relation "public.loose" has no unique index' in err
    assert "HINT:  Make it the primary key, or run CREATE UNIQUE INDEX ON public.loose (id)." in err


def test_next_id_table_names_its_id_column(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE actor (actor_id integer PRIMARY KEY, name text)")
        conn.execute("INSERT INTO actor VALUES (1, 'a'), (2, 'b'), (10, 'c')")
    # Without the column, the error says what to pass, with its SQLSTATE.
    assert main(["next-id", "--table", "actor", "--dsn", dsn]) == 2
    err = capsys.readouterr().err
    assert 'pyidsql: ERROR:  42703: column "id" of relation "public.actor" does not exist' in err
    assert "HINT:  Pass the name of the integer column that holds the IDs as id_column." in err
    # --id-column passes it: the table is registered with it once, then draws from its sequence.
    assert main(["next-id", "--table", "actor", "--id-column", "actor_id", "--dsn", dsn]) == 0
    assert main(["next-id", "--table", "actor", "--id-column", "actor_id", "-n", "2", "--dsn", dsn]) == 0
    assert main(["next-id", "--table", "actor", "--dsn", dsn]) == 0
    assert capsys.readouterr().out.split() == ["11", "12", "13", "14"]
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT id_column FROM idsql.table_counter WHERE table_name = 'actor'::regclass").fetchone()
        assert row == ("actor_id",)


def test_next_id_id_column_keeps_the_initial_value_it_was_registered_with(
    dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE actor (actor_id integer PRIMARY KEY)")
        pyidsql.initialize_table(conn, "actor", "actor_id", initial_value=500)
    assert main(["next-id", "--table", "actor", "--id-column", "actor_id", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == "500\n"
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT initial_value FROM idsql.table_counter WHERE table_name = 'actor'::regclass")
        assert row.fetchone() == (500,)


def test_next_id_id_column_needs_a_table(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "CUS", "--id-column", "actor_id", "--dsn", dsn]) == 2
    assert "--id-column names the ID column of --table" in capsys.readouterr().err


def test_next_id_table_bad_count(chat_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "--table", "chat_history", "-n", "0", "--dsn", chat_dsn]) == 2
    assert 'invalid count "0"' in capsys.readouterr().err


def test_next_id_prefix_and_table_are_exclusive(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["next-id", "CUS", "--table", "chat_history", "--dsn", dsn])
    assert excinfo.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["next-id", "--dsn", dsn])
    assert "one of the arguments prefix --table is required" in capsys.readouterr().err
