"""Async twins of the pyidsql wrappers, for a psycopg ``AsyncConnection``.

Same names, arguments and SQL as the sync functions; ``await`` them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyidsql import _db, table_ids
from pyidsql import _queries as Q
from pyidsql._db import AsyncConnectable
from pyidsql.prefixed import Mode, ParsedId, PrefixStats
from pyidsql.table_ids import as_jsonb, exhausted_message


async def generate_id(conn: AsyncConnectable, prefix: str) -> str:
    """Return the next ID for *prefix* (``idsql.generate_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.GENERATE_ID, (prefix,))
    return result


async def bulk_generate_ids(conn: AsyncConnectable, prefix: str, n: int) -> list[str]:
    """Return *n* consecutive IDs for *prefix* (``idsql.bulk_generate_ids``)."""
    return [row[0] for row in await _db.afetch_all(conn, Q.BULK_GENERATE_IDS, (prefix, n))]


async def current_id(conn: AsyncConnectable, prefix: str) -> str | None:
    """Return the last ID issued for *prefix*, or None (``idsql.current_id``)."""
    result: str | None = await _db.afetch_scalar(conn, Q.CURRENT_ID, (prefix,))
    return result


async def reset_sequence(conn: AsyncConnectable, prefix: str, last_id: str | None) -> None:
    """Make the next ID of *prefix* follow *last_id* (``idsql.reset_sequence``)."""
    await _db.afetch_all(conn, Q.RESET_SEQUENCE, (prefix, last_id))


async def configure_prefix(
    conn: AsyncConnectable,
    prefix: str,
    mode: Mode = "gapless",
    digits: int = 4,
    min_letters: int = 3,
) -> None:
    """Create *prefix* or change its mode and format (``idsql.configure_prefix``)."""
    await _db.afetch_all(conn, Q.CONFIGURE_PREFIX, (prefix, mode, digits, min_letters))


async def sync_prefix(conn: AsyncConnectable, prefix: str, source: str, id_column: str) -> str | None:
    """Move *prefix*'s counter forward to the highest ID in a column (``idsql.sync_prefix``)."""
    result: str | None = await _db.afetch_scalar(conn, Q.SYNC_PREFIX, (prefix, source, id_column))
    return result


async def prefix_stats(conn: AsyncConnectable) -> list[PrefixStats]:
    """Return one :class:`PrefixStats` per prefix (``idsql.prefix_stats``)."""
    return [PrefixStats(*row) for row in await _db.afetch_all(conn, Q.PREFIX_STATS)]


async def id_health_check(conn: AsyncConnectable) -> dict[str, Any]:
    """Generate a probe ID and roll it back; return the report (``idsql.id_health_check``)."""
    result: dict[str, Any] = await _db.afetch_scalar(conn, Q.ID_HEALTH_CHECK)
    return result


async def format_id(
    conn: AsyncConnectable, prefix: str, ordinal: int, *, digits: int = 4, min_letters: int = 3
) -> str:
    """Return the ID with *ordinal* for *prefix* (``idsql.format_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.FORMAT_ID, (prefix, ordinal, digits, min_letters))
    return result


async def parse_id(
    conn: AsyncConnectable, id: str, *, digits: int = 4, min_letters: int = 3
) -> ParsedId:
    """Return the parts of *id* and its ordinal (``idsql.parse_id``)."""
    return ParsedId(*(await _db.afetch_all(conn, Q.PARSE_ID, (id, digits, min_letters)))[0])


async def is_valid_id(
    conn: AsyncConnectable,
    id: str | None,
    prefix: str | None = None,
    *,
    digits: int = 4,
    min_letters: int = 3,
) -> bool:
    """Return whether *id* is a canonical ID (``idsql.is_valid_id``)."""
    result: bool = await _db.afetch_scalar(conn, Q.IS_VALID_ID, (id, prefix, digits, min_letters))
    return result


async def increment_id(
    conn: AsyncConnectable, id: str, *, digits: int = 4, min_letters: int = 3
) -> str:
    """Return the ID after *id* (``idsql.increment_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.INCREMENT_ID, (id, digits, min_letters))
    return result


async def normalize_id(
    conn: AsyncConnectable, id: str, *, digits: int = 4, min_letters: int = 3
) -> str:
    """Return *id* with its format corrected (``idsql.normalize_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.NORMALIZE_ID, (id, digits, min_letters))
    return result


# --- table IDs


async def initialize_table(
    conn: AsyncConnectable, table: str, id_column: str = "id", initial_value: int = 1
) -> int:
    """Register or re-sync *table* and return its next ID (``idsql.initialize_table``)."""
    result: int = await _db.afetch_scalar(conn, Q.INITIALIZE_TABLE, (table, id_column, initial_value))
    return result


async def initialize(conn: AsyncConnectable, tables: Sequence[str] | None = None) -> dict[str, int]:
    """Re-sync *tables*, or every registered table; return ``{table: next ID}`` (``idsql.initialize``)."""
    params = (None if tables is None else list(tables),)
    return {name: next_value for name, next_value in await _db.afetch_all(conn, Q.INITIALIZE, params)}


async def next_id(conn: AsyncConnectable, table: str) -> int:
    """Return the next ID of *table*, registering it on first use (``idsql.next_id``)."""
    result: int = await _db.afetch_scalar(conn, Q.NEXT_ID, (table,))
    return result


async def insert_with_retry(
    conn: AsyncConnectable, table: str, data: Mapping[str, Any], retry_attempts: int = 3
) -> dict[str, Any]:
    """Insert *data* with the next ID and return the row (``idsql.insert_with_retry``)."""
    result: dict[str, Any] = await _db.afetch_scalar(
        conn, Q.INSERT_WITH_RETRY, (table, as_jsonb(data), retry_attempts)
    )
    return result


class AsyncIDManager:
    """Async twin of :class:`pyidsql.IDManager`, for a psycopg ``AsyncConnection``."""

    def __init__(self, conn: AsyncConnectable, initial_value: int = 1, retry_attempts: int = 3) -> None:
        self.conn = conn
        self.initial_value = initial_value
        self.retry_attempts = retry_attempts

    async def initialize(self) -> dict[str, int]:
        """Re-sync every registered table from the database; return ``{table: next ID}``."""
        return await initialize(self.conn)

    async def initialize_table(self, table: str) -> int:
        """Register or re-sync *table* and return its next ID."""
        return await initialize_table(self.conn, table, initial_value=self.initial_value)

    async def next_id(self, table: str) -> int:
        """Return the next ID of *table*."""
        await self._register(table)
        return await next_id(self.conn, table)

    async def insert_with_retry(
        self, table: str, data: Mapping[str, Any], *, raise_on_failure: bool = False
    ) -> dict[str, Any] | None:
        """Insert *data* with the next ID and return the row; None (and an error logged) if every ID was taken."""
        await self._register(table)
        if raise_on_failure:
            return await insert_with_retry(self.conn, table, data, self.retry_attempts)
        row: dict[str, Any] | None = await _db.afetch_scalar(
            self.conn, Q.TRY_INSERT_WITH_RETRY, (table, as_jsonb(data), self.retry_attempts)
        )
        if row is None:
            table_ids.log.error(exhausted_message(table, self.retry_attempts))
        return row

    async def _register(self, table: str) -> None:
        if self.initial_value != 1:
            await _db.afetch_all(self.conn, Q.REGISTER_TABLE, (self.initial_value, table))
