"""Async twins of the pyidsql wrappers, for a psycopg ``AsyncConnection``.

Same names, arguments and SQL as the sync functions; ``await`` them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from time import monotonic
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb

from pyidsql import _db, table_ids
from pyidsql import _queries as Q
from pyidsql._db import AsyncConnectable
from pyidsql.negotiation import (
    IdChanged,
    IdValue,
    Operation,
    PlanStep,
    Strategy,
    SyncItem,
    _batch,
    _check_autocommit,
    _check_direct,
    _enqueue_params,
    _log_query,
    _Seen,
    _text,
)
from pyidsql.prefixed import Mode, ParsedId, PrefixStats
from pyidsql.sequences import SequenceFix, SequenceReportRow
from pyidsql.state_versions import Change, RowVersion
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


async def format_id(conn: AsyncConnectable, prefix: str, ordinal: int, *, digits: int = 4, min_letters: int = 3) -> str:
    """Return the ID with *ordinal* for *prefix* (``idsql.format_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.FORMAT_ID, (prefix, ordinal, digits, min_letters))
    return result


async def parse_id(conn: AsyncConnectable, id: str, *, digits: int = 4, min_letters: int = 3) -> ParsedId:
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


async def increment_id(conn: AsyncConnectable, id: str, *, digits: int = 4, min_letters: int = 3) -> str:
    """Return the ID after *id* (``idsql.increment_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.INCREMENT_ID, (id, digits, min_letters))
    return result


async def normalize_id(conn: AsyncConnectable, id: str, *, digits: int = 4, min_letters: int = 3) -> str:
    """Return *id* with its format corrected (``idsql.normalize_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.NORMALIZE_ID, (id, digits, min_letters))
    return result


# --- table IDs


async def initialize_table(conn: AsyncConnectable, table: str, id_column: str = "id", initial_value: int = 1) -> int:
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
    result: dict[str, Any] = await _db.afetch_scalar(conn, Q.INSERT_WITH_RETRY, (table, as_jsonb(data), retry_attempts))
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


# --- ID negotiation


async def set_id_strategy(conn: AsyncConnectable, table: str, strategy: Strategy, generator: str | None = None) -> None:
    """Choose client or server IDs for *table* (``idsql.set_id_strategy``)."""
    await _db.afetch_all(conn, Q.SET_ID_STRATEGY, (table, strategy, generator))


async def new_temp_id(conn: AsyncConnectable, table: str) -> str:
    """Return a temporary ID for a row of *table* (``idsql.new_temp_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.NEW_TEMP_ID, (table,))
    return result


async def is_temp_id(conn: AsyncConnectable, table: str, id: IdValue) -> bool:
    """Return whether *id* is a temporary ID of *table* (``idsql.is_temp_id``)."""
    result: bool = await _db.afetch_scalar(conn, Q.IS_TEMP_ID, (table, _text(id)))
    return result


async def resolve_id(conn: AsyncConnectable, table: str, id: IdValue) -> str:
    """Return the permanent ID that replaced *id*, or *id* itself (``idsql.resolve_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.RESOLVE_ID, (table, _text(id)))
    return result


async def replace_id_everywhere(conn: AsyncConnectable, table: str, old_id: IdValue, new_id: IdValue) -> dict[str, Any]:
    """Replace temporary *old_id* by *new_id* everywhere (``idsql.replace_id_everywhere``)."""
    result: dict[str, Any] = await _db.afetch_scalar(
        conn, Q.REPLACE_ID_EVERYWHERE, (table, _text(old_id), _text(new_id))
    )
    return result


async def plan_replace_id(conn: AsyncConnectable, table: str, old_id: IdValue) -> list[PlanStep]:
    """Return what replacing *old_id* would rewrite (``idsql.plan_replace_id``)."""
    return [PlanStep(*row) for row in await _db.afetch_all(conn, Q.PLAN_REPLACE_ID, (table, _text(old_id)))]


async def assign_server_id(conn: AsyncConnectable, table: str, temp_id: IdValue) -> str:
    """Allocate a permanent ID for *temp_id* and replace it everywhere (``idsql.assign_server_id``)."""
    result: str = await _db.afetch_scalar(conn, Q.ASSIGN_SERVER_ID, (table, _text(temp_id)))
    return result


async def negotiate_ids(conn: AsyncConnectable, batch: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Replace many temporary IDs in one go, one notification (``idsql.negotiate_ids``)."""
    result: list[dict[str, Any]] = await _db.afetch_scalar(conn, Q.NEGOTIATE_IDS, (_batch(batch),))
    return result


async def enqueue_sync(
    conn: AsyncConnectable,
    model_type: str,
    model_id: IdValue,
    operation: Operation,
    payload: Any = None,
    temporary_client_id: IdValue | None = None,
) -> int:
    """Queue a change of one row for the remote API (``idsql.enqueue_sync``)."""
    params = _enqueue_params(model_type, model_id, operation, payload, temporary_client_id)
    result: int = await _db.afetch_scalar(conn, Q.ENQUEUE_SYNC, params)
    return result


async def claim_sync_batch(conn: AsyncConnectable, n: int, max_attempts: int = 5) -> list[SyncItem]:
    """Claim up to *n* items with SKIP LOCKED (``idsql.claim_sync_batch``)."""
    return [SyncItem(*row) for row in await _db.afetch_all(conn, Q.CLAIM_SYNC_BATCH, (n, max_attempts))]


async def complete_sync(conn: AsyncConnectable, id: int, server_id: IdValue | None = None) -> SyncItem:
    """Mark a claimed item complete, replacing its temporary ID by *server_id* (``idsql.complete_sync``)."""
    return SyncItem(*(await _db.afetch_all(conn, Q.COMPLETE_SYNC, (id, _text(server_id))))[0])


async def fail_sync(conn: AsyncConnectable, id: int, error: str, conflict: bool = False) -> SyncItem:
    """Record a failed attempt of a claimed item (``idsql.fail_sync``)."""
    return SyncItem(*(await _db.afetch_all(conn, Q.FAIL_SYNC, (id, error, conflict)))[0])


async def enable_late_reference_resolution(
    conn: AsyncConnectable, table: str, mode: Literal["resolve", "reject"] = "resolve"
) -> None:
    """Resolve or refuse replaced temporary IDs in foreign keys (``idsql.enable_late_reference_resolution``)."""
    await _db.afetch_all(conn, Q.ENABLE_LATE_REFERENCE_RESOLUTION, (table, mode))


async def disable_late_reference_resolution(conn: AsyncConnectable, table: str) -> None:
    """Remove the late-reference trigger from *table* (``idsql.disable_late_reference_resolution``)."""
    await _db.afetch_all(conn, Q.DISABLE_LATE_REFERENCE_RESOLUTION, (table,))


async def listen_id_changes(
    conn: psycopg.AsyncConnection[Any], *, since_log_id: int | None = None, timeout: float | None = None
) -> AsyncIterator[IdChanged]:
    """Async twin of :func:`pyidsql.listen_id_changes`: replay after *since_log_id*, then live events."""
    _check_autocommit(conn.autocommit)
    _check_direct(conn.info.backend_pid, await _db.afetch_scalar(conn, Q.BACKEND_PID))
    deadline = None if timeout is None else monotonic() + timeout
    seen = _Seen()
    await conn.execute(Q.LISTEN_ID_CHANGED)
    if since_log_id is not None:
        for event in seen.fresh(await _db.afetch_all(conn, Q.ID_CHANGES_SINCE, (since_log_id,))):
            yield event
    while deadline is None or monotonic() < deadline:
        remaining = None if deadline is None else max(0.0, deadline - monotonic())
        notes = [note async for note in conn.notifies(timeout=remaining, stop_after=1)]
        for note in notes:
            query, params = _log_query(note.payload)
            for event in seen.fresh(await _db.afetch_all(conn, query, params)):
                yield event


# --- state versions ---------------------------------------------------------------------------


async def enable_state_version(
    conn: AsyncConnectable,
    tbl: str,
    version_column: str | None = "state_version",
    parent: str | None = None,
    parent_fk: str | None = None,
    history: bool = False,
) -> None:
    """Track changes of *tbl*; idempotent (``idsql.enable_state_version``)."""
    await _db.afetch_all(conn, Q.ENABLE_STATE_VERSION, (tbl, version_column, parent, parent_fk, history))


async def disable_state_version(conn: AsyncConnectable, tbl: str) -> None:
    """Remove the triggers from *tbl*; keep its data and history (``idsql.disable_state_version``)."""
    await _db.afetch_all(conn, Q.DISABLE_STATE_VERSION, (tbl,))


async def row_history(conn: AsyncConnectable, tbl: str, key: dict[str, Any]) -> list[RowVersion]:
    """Return every committed version of one row, oldest first (``idsql.row_history``)."""
    return [RowVersion(*row) for row in await _db.afetch_all(conn, Q.ROW_HISTORY, (tbl, Jsonb(key)))]


async def children_as_of(
    conn: AsyncConnectable, tbl: str, parent_key: dict[str, Any], parent_version: int
) -> list[dict[str, Any]]:
    """Return the rows of *tbl* under a parent as they were at *parent_version* (``idsql.children_as_of``)."""
    rows = await _db.afetch_all(conn, Q.CHILDREN_AS_OF, (tbl, Jsonb(parent_key), parent_version))
    return [row[0] for row in rows]


async def changes_between(
    conn: AsyncConnectable, root: str, root_key: dict[str, Any], from_version: int, to_version: int
) -> list[Change]:
    """Return the rows added, removed or changed under a root between two versions (``idsql.changes_between``)."""
    rows = await _db.afetch_all(conn, Q.CHANGES_BETWEEN, (root, Jsonb(root_key), from_version, to_version))
    return [Change(*row) for row in rows]


async def rollback_to_version(conn: AsyncConnectable, root: str, root_key: dict[str, Any], target_version: int) -> int:
    """Restore everything under a root row to *target_version* as a new version (``idsql.rollback_to_version``)."""
    result: int = await _db.afetch_scalar(conn, Q.ROLLBACK_TO_VERSION, (root, Jsonb(root_key), target_version))
    return result


async def prune_history(conn: AsyncConnectable, root: str, keep_versions: int = 100) -> int:
    """Drop history older than the last *keep_versions* versions of each root row (``idsql.prune_history``)."""
    result: int = await _db.afetch_scalar(conn, Q.PRUNE_HISTORY, (root, keep_versions))
    return result


# --- sequence repair


async def sequence_report(conn: AsyncConnectable, schemas: Sequence[str] | None = None) -> list[SequenceReportRow]:
    """Return the drift of every sequence-fed column (``idsql.sequence_report``)."""
    params = (None if schemas is None else list(schemas),)
    return [SequenceReportRow(*row) for row in await _db.afetch_all(conn, Q.SEQUENCE_REPORT, params)]


async def fix_sequence(
    conn: AsyncConnectable, table: str, column: str, margin: int = 0, allow_backward: bool = False
) -> int:
    """Move the sequence of *table.column* past the data; return the next value (``idsql.fix_sequence``)."""
    result: int = await _db.afetch_scalar(conn, Q.FIX_SEQUENCE, (table, column, margin, allow_backward))
    return result


async def fix_all_sequences(
    conn: AsyncConnectable,
    schemas: Sequence[str] | None = None,
    margin: int = 0,
    allow_backward: bool = False,
    dry_run: bool = False,
) -> list[SequenceFix]:
    """Fix every sequence behind its data, in the caller's transaction (``idsql.fix_all_sequences_report``)."""
    params = (None if schemas is None else list(schemas), margin, allow_backward, dry_run)
    return [SequenceFix(*row) for row in await _db.afetch_all(conn, Q.FIX_ALL_SEQUENCES_REPORT, params)]


fix_all_sequences_report = fix_all_sequences
"""The same function under the name of the SQL function it calls."""


async def grant_access(conn: AsyncConnectable, role: str, *, admin: bool = False) -> None:
    """Let *role* generate and read IDs, or also administer idsql (``idsql.grant_access``)."""
    await _db.afetch_all(conn, Q.GRANT_ACCESS, (role, admin))
