"""The ID error codes: the SQL sources, the table in docs/errors.md and pyidsql.errors list the same ones."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from pyidsql import _resources, errors

ERRORS_DOC = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def codes_in_sql() -> set[str]:
    text = "\n".join(p.read_text() for p in _resources.SQL_DIR.rglob("*.sql"))
    return set(re.findall(r"ERRCODE\s*=\s*'(ID[0-9A-Z]{3})'", text))


def errors_doc_table() -> dict[str, str]:
    """Return {SQLSTATE: Python class} from the table of ID codes in docs/errors.md."""
    rows = re.findall(r"^\|\s*`(ID[0-9A-Z]{3})`\s*\|[^|]*\|\s*`(?:errors\.)?(\w+)`", ERRORS_DOC.read_text(), re.M)
    return dict(rows)


def test_sql_errors_doc_and_python_agree() -> None:
    in_python = {code: cls.__name__ for code, cls in errors.by_sqlstate().items()}
    assert codes_in_sql() == set(in_python)
    assert errors_doc_table() == in_python


def test_no_category_codes() -> None:
    assert not [c for c in codes_in_sql() | set(errors.by_sqlstate()) if c.endswith("000")]


def test_every_class_is_an_idsql_error_with_a_docstring() -> None:
    for code, cls in errors.by_sqlstate().items():
        assert issubclass(cls, errors.IdsqlError)
        assert cls.sqlstate == code
        assert cls.__doc__


def test_translation_keeps_the_original_and_its_diagnostics(dsn: str) -> None:
    import pyidsql

    with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(errors.InvalidId) as excinfo:
        pyidsql.parse_id(conn, "CUS-AAA0000")
    exc = excinfo.value
    assert isinstance(exc.__cause__, psycopg.Error)
    assert exc.__cause__.sqlstate == "ID002"
    assert exc.detail == 'The number part "0000" is zero; numbers start at 1.'
    assert exc.hint is not None and "CUS-AAA0001" in exc.hint
    assert "DETAIL:" in str(exc) and "HINT:" in str(exc)


def test_other_errors_pass_through(dsn: str) -> None:
    import pyidsql

    with psycopg.connect(dsn, autocommit=True) as conn, pytest.raises(psycopg.errors.InvalidParameterValue):
        pyidsql.bulk_generate_ids(conn, "CUS", 0)


def test_a_code_cannot_be_registered_twice() -> None:
    with pytest.raises(TypeError):

        class Again(errors.IdsqlError, sqlstate="ID001"):
            """duplicate"""
