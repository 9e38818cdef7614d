"""Sequential table IDs: one wrapper per ``idsql`` function, same names, and :class:`IDManager`.

Each table has a row in ``idsql.table_counter`` and a sequence in schema ``idsql`` behind it,
shared by every connection and process: concurrent callers never wait for each other, and a
rollback leaves a hole. Every wrapper runs in the caller's transaction and never commits. Table names are
passed as values and cast to ``regclass`` by the server (``"sales.feedback"`` works), never
spliced into SQL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb

from pyidsql import _db
from pyidsql import _queries as Q
from pyidsql._db import Connectable

log = logging.getLogger(__name__)


def _json_default(value: Any) -> str:
    """Return a JSON string for what ``json`` cannot encode; the column's type parses it."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def as_jsonb(data: Mapping[str, Any]) -> Jsonb:
    """Return *data* as a jsonb parameter; dates, decimals, UUIDs and bytes go as strings."""
    return Jsonb(dict(data), dumps=lambda obj: json.dumps(obj, default=_json_default))


def exhausted_message(table: str, attempts: int) -> str:
    """Return the message :class:`IDManager` logs when every ID it tried was taken."""
    return f"insert into {table} failed: every one of {attempts} ID(s) tried was already taken"


def initialize_table(conn: Connectable, table: str, id_column: str = "id", initial_value: int = 1) -> int:
    """Register or re-sync *table* and return its next ID (``idsql.initialize_table``)."""
    result: int = _db.fetch_scalar(conn, Q.INITIALIZE_TABLE, (table, id_column, initial_value))
    return result


def initialize(conn: Connectable, tables: Sequence[str] | None = None) -> dict[str, int]:
    """Re-sync *tables*, or every registered table; return ``{table: next ID}`` (``idsql.initialize``)."""
    params = (None if tables is None else list(tables),)
    return {name: next_value for name, next_value in _db.fetch_all(conn, Q.INITIALIZE, params)}


def next_id(conn: Connectable, table: str) -> int:
    """Return the next ID of *table*, registering it on first use (``idsql.next_id``)."""
    result: int = _db.fetch_scalar(conn, Q.NEXT_ID, (table,))
    return result


def insert_with_retry(
    conn: Connectable, table: str, data: Mapping[str, Any], retry_attempts: int = 3
) -> dict[str, Any]:
    """Insert *data* with the next ID and return the row, defaults applied (``idsql.insert_with_retry``).

    Raises :class:`pyidsql.errors.RetriesExhausted` when every ID tried was taken.
    """
    result: dict[str, Any] = _db.fetch_scalar(conn, Q.INSERT_WITH_RETRY, (table, as_jsonb(data), retry_attempts))
    return result


class IDManager:
    """The original ``IDManager`` interface, with its counters in the database instead of in memory.

    Every process and connection shares the counters, so two managers never hand out the same ID.
    A table is registered on first use with this manager's *initial_value*.
    """

    def __init__(self, conn: Connectable, initial_value: int = 1, retry_attempts: int = 3) -> None:
        self.conn = conn
        self.initial_value = initial_value
        self.retry_attempts = retry_attempts

    def initialize(self) -> dict[str, int]:
        """Re-sync every registered table from the database; return ``{table: next ID}``."""
        return initialize(self.conn)

    def initialize_table(self, table: str) -> int:
        """Register or re-sync *table* (a custom table, say) and return its next ID."""
        return initialize_table(self.conn, table, initial_value=self.initial_value)

    def next_id(self, table: str) -> int:
        """Return the next ID of *table*."""
        self._register(table)
        return next_id(self.conn, table)

    def insert_with_retry(
        self, table: str, data: Mapping[str, Any], *, raise_on_failure: bool = False
    ) -> dict[str, Any] | None:
        """Insert *data* with the next ID and return the row; None (and an error logged) if every ID was taken.

        With ``raise_on_failure=True``, raise :class:`pyidsql.errors.RetriesExhausted` instead.
        Other errors (unknown columns, bad values, a missing table) always raise.
        """
        self._register(table)
        if raise_on_failure:
            return insert_with_retry(self.conn, table, data, self.retry_attempts)
        row: dict[str, Any] | None = _db.fetch_scalar(
            self.conn, Q.TRY_INSERT_WITH_RETRY, (table, as_jsonb(data), self.retry_attempts)
        )
        if row is None:
            log.error(exhausted_message(table, self.retry_attempts))
        return row

    def _register(self, table: str) -> None:
        # With the default initial value, next_id and insert_with_retry register a table themselves.
        if self.initial_value != 1:
            _db.fetch_all(self.conn, Q.REGISTER_TABLE, (self.initial_value, table))
