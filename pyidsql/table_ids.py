"""Sequential table IDs: one wrapper per ``idsql`` function, same names, and :class:`IDManager`.

The SQL is in ``sql/table_ids/``; :mod:`pyidsql.aio` runs the same wrappers on an async connection.

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

from pyidsql._calls import HasConnection, Steps, method, rows, scalar, steps_of, wrapper
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
    """Return the message :class:`IDManager` logs when the ID was taken on every attempt."""
    return f"insert into {table} failed after {attempts} attempt(s): the ID was taken each time"


@wrapper
def initialize_table(table: str, id_column: str = "id", initial_value: int = 1) -> Steps[int]:
    """Register or re-sync *table* and return its next ID (``idsql.initialize_table``)."""
    query = "SELECT idsql.initialize_table(%s::regclass, id_column => %s, initial_value => %s)"
    result: int = yield from scalar(query, (table, id_column, initial_value))
    return result


@wrapper
def initialize(tables: Sequence[str] | None = None) -> Steps[dict[str, int]]:
    """Re-sync *tables*, or every registered table; return ``{table: next ID}`` (``idsql.initialize``)."""
    query = "SELECT table_name::text, next_id FROM idsql.initialize(%s::regclass[])"
    found = yield from rows(query, (None if tables is None else list(tables),))
    return {name: next_value for name, next_value in found}


@wrapper
def next_id(table: str) -> Steps[int]:
    """Return the next ID of *table*, registering it on first use (``idsql.next_id``)."""
    result: int = yield from scalar("SELECT idsql.next_id(%s::regclass)", (table,))
    return result


@wrapper
def insert_with_retry(table: str, data: Mapping[str, Any], retry_attempts: int = 3) -> Steps[dict[str, Any]]:
    """Insert *data* with the next ID and return the row, defaults applied (``idsql.insert_with_retry``).

    Raises :class:`pyidsql.errors.RetriesExhausted` when the ID was taken on every attempt.
    """
    query = "SELECT idsql.insert_with_retry(%s::regclass, %s::jsonb, %s)"
    result: dict[str, Any] = yield from scalar(query, (table, as_jsonb(data), retry_attempts))
    return result


class _Manager(HasConnection):
    """What :class:`IDManager` and its async twin share: settings, and registering a table."""

    initial_value: int
    retry_attempts: int

    def _register(self, table: str) -> Steps[None]:
        # With the default initial value, next_id and insert_with_retry register a table themselves;
        # with another, a table is registered on first use with it, not with 1.
        if self.initial_value != 1:
            query = (
                "SELECT idsql.initialize_table(s.t, initial_value => %s) FROM (SELECT %s::regclass AS t) AS s"
                " WHERE NOT EXISTS (SELECT FROM idsql.table_counter AS c WHERE c.table_name = s.t)"
            )
            yield from rows(query, (self.initial_value, table))


class IDManager(_Manager):
    """The original ``IDManager`` interface, with its counters in the database instead of in memory.

    Every process and connection shares the counters, so two managers never hand out the same ID.
    A table is registered on first use with this manager's *initial_value*.
    """

    def __init__(self, conn: Connectable, initial_value: int = 1, retry_attempts: int = 3) -> None:
        self.conn = conn
        self.initial_value = initial_value
        self.retry_attempts = retry_attempts

    @method
    def initialize(self: _Manager) -> Steps[dict[str, int]]:
        """Re-sync every registered table from the database; return ``{table: next ID}``."""
        result: dict[str, int] = yield from steps_of(initialize)()
        return result

    @method
    def initialize_table(self: _Manager, table: str) -> Steps[int]:
        """Register or re-sync *table* (a custom table, say) and return its next ID."""
        result: int = yield from steps_of(initialize_table)(table, initial_value=self.initial_value)
        return result

    @method
    def next_id(self: _Manager, table: str) -> Steps[int]:
        """Return the next ID of *table*."""
        yield from self._register(table)
        result: int = yield from steps_of(next_id)(table)
        return result

    @method
    def insert_with_retry(
        self: _Manager, table: str, data: Mapping[str, Any], *, raise_on_failure: bool = False
    ) -> Steps[dict[str, Any] | None]:
        """Insert *data* with the next ID and return the row; None (and an error logged) if every ID was taken.

        With ``raise_on_failure=True``, raise :class:`pyidsql.errors.RetriesExhausted` instead.
        Other errors (unknown columns, bad values, a missing table) always raise.
        """
        yield from self._register(table)
        if raise_on_failure:
            inserted: dict[str, Any] = yield from steps_of(insert_with_retry)(table, data, self.retry_attempts)
            return inserted
        # The same insert, NULL instead of an error when the attempts run out.
        query = "SELECT idsql._insert_with_retry(%s::regclass, %s::jsonb, %s)"
        row: dict[str, Any] | None = yield from scalar(query, (table, as_jsonb(data), self.retry_attempts))
        if row is None:
            log.error(exhausted_message(table, self.retry_attempts))
        return row
