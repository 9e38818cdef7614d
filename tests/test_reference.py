"""The reference docs: generated from the catalog and the docstrings, complete, and up to date."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from pyidsql.tooling import reference


@pytest.fixture
def db(dsn: str) -> Any:
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


def test_sql_reference_lists_every_public_routine_with_its_comment(db: psycopg.Connection[Any]) -> None:
    text = reference.render_sql(db)
    routines = db.execute(
        "SELECT proname, obj_description(oid, 'pg_proc') FROM pg_proc"
        " WHERE pronamespace = 'idsql'::regnamespace AND proname !~ '^(_|tg_)'"
    ).fetchall()
    assert routines
    missing = [name for name, comment in routines if f"### `idsql.{name}`" not in text or comment not in text]
    assert missing == []
    assert "_check_prefix" not in text, "internal helpers are not part of the reference"


def test_docs_are_what_make_docs_writes(db: psycopg.Connection[Any]) -> None:
    # Run `make docs` after changing a comment, a function or a docstring.
    assert (reference.DOCS / "sql-reference.md").read_text() == reference.render_sql(db)
    assert (reference.DOCS / "python-reference.md").read_text() == reference.render_python()
