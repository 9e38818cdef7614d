"""asyncpg against idsql: the shared calls, row counts from the command status, errors in full.

asyncpg prepares every statement it runs (``docs/howto/python-drivers.md`` says what that means
behind a transaction pooler) and reports an UPDATE's row count only in its status string.
"""

from __future__ import annotations

from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from pyidsql.errors import InvalidId, StaleVersion, translate

from .conftest import CALLS, ERRORS, FINAL, row_versions

asyncpg = pytest.importorskip("asyncpg")


async def _connect(dsn: str) -> Any:
    p = conninfo_to_dict(dsn)
    return await asyncpg.connect(
        host=p.get("host"),
        port=int(p.get("port", 5432)),
        user=p.get("user"),
        password=p.get("password"),
        database=p.get("dbname"),
    )


async def test_asyncpg_calls_row_counts_and_errors(
    client_dsn: str, reference_errors: dict[str, Any], reference_calls: list[str]
) -> None:
    conn = await _connect(client_dsn)
    try:
        assert await conn.fetchval("INSERT INTO account (name) VALUES ('first') RETURNING id") == "ACC-AAA0001"
        assert await conn.execute("UPDATE account SET name = 'second' WHERE id = $1", "ACC-AAA0001") == "UPDATE 1"
        async with conn.transaction():
            await conn.executemany("INSERT INTO account (name) VALUES ($1)", [("b1",), ("b2",), ("b3",)])
        assert await conn.fetchval("SELECT idsql.generate_id($1)", "ACC") == "ACC-AAA0005"
        ids = [r[0] for r in await conn.fetch("SELECT * FROM idsql.bulk_generate_ids($1, $2)", "BLK", 1000)]
        assert (len(set(ids)), ids[0], ids[-1]) == (1000, "BLK-AAA0001", "BLK-AAA1000")
        # A no-op UPDATE reports every row it matched, and RETURNING returns them.
        assert await conn.execute("UPDATE account SET name = name") == "UPDATE 4"
        assert len(await conn.fetch("UPDATE account SET name = name RETURNING id")) == 4
        for name, statement in ERRORS.items():
            with pytest.raises(asyncpg.PostgresError) as caught:
                await conn.execute(statement)
            e = caught.value
            assert (e.sqlstate, e.message, e.detail, e.hint) == reference_errors[name]
            assert isinstance(translate(e), {"stale": StaleVersion, "invalid_id": InvalidId}[name])
        assert [await conn.fetchval(statement) for _, statement in CALLS] == reference_calls
    finally:
        await conn.close()
    assert row_versions(client_dsn) == FINAL
