"""psycopg2 against idsql: the shared calls, ``rowcount``, ``RETURNING`` and errors in full."""

from __future__ import annotations

from typing import Any

import pytest

from pyidsql.errors import InvalidId, StaleVersion, translate

from .conftest import CALLS, ERRORS, FINAL, row_versions

psycopg2 = pytest.importorskip("psycopg2")
extras = pytest.importorskip("psycopg2.extras")


def test_psycopg2_calls_row_counts_and_errors(
    client_dsn: str, reference_errors: dict[str, Any], reference_calls: list[str]
) -> None:
    conn = psycopg2.connect(client_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO account (name) VALUES ('first') RETURNING id")
            assert cur.fetchone() == ("ACC-AAA0001",)
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE account SET name = 'second' WHERE id = %s", ("ACC-AAA0001",))
            assert cur.rowcount == 1
        with conn, conn.cursor() as cur:
            extras.execute_batch(cur, "INSERT INTO account (name) VALUES (%s)", [("b1",), ("b2",), ("b3",)])
            cur.execute("SELECT idsql.generate_id(%s)", ("ACC",))
            assert cur.fetchone() == ("ACC-AAA0005",)
            cur.execute("SELECT * FROM idsql.bulk_generate_ids(%s, %s)", ("BLK", 1000))
            ids = [r[0] for r in cur.fetchall()]
            assert (len(set(ids)), ids[0], ids[-1]) == (1000, "BLK-AAA0001", "BLK-AAA1000")
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE account SET name = name")
            assert cur.rowcount == 4
            cur.execute("UPDATE account SET name = name RETURNING id")
            assert (cur.rowcount, len(cur.fetchall())) == (4, 4)
        for name, statement in ERRORS.items():
            with pytest.raises(psycopg2.Error) as caught, conn, conn.cursor() as cur:
                cur.execute(statement)
            e = caught.value
            d = e.diag
            assert (e.pgcode, d.message_primary, d.message_detail, d.message_hint) == reference_errors[name]
            assert isinstance(translate(e), {"stale": StaleVersion, "invalid_id": InvalidId}[name])
        values = []
        for _, statement in CALLS:
            with conn, conn.cursor() as cur:
                cur.execute(statement)
                values.append(cur.fetchone()[0])
        assert values == reference_calls
    finally:
        conn.close()
    assert row_versions(client_dsn) == FINAL
