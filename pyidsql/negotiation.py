"""ID negotiation: temporary client IDs replaced by server IDs everywhere.

One wrapper per ``idsql`` function, same names. IDs travel as text (an ``int`` or
``uuid.UUID`` is converted); tables are names as SQL would resolve them in the
connection's search_path, passed as values and cast to ``regclass`` by the server.
Every wrapper runs in the caller's transaction and never commits: a replacement,
its log row and its notification become visible together on commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import Any, Literal, LiteralString

import psycopg
from psycopg.types.json import Jsonb

from pyidsql import _db
from pyidsql import _queries as Q
from pyidsql._db import Connectable

Strategy = Literal["client", "server"]
Operation = Literal["create", "update", "delete"]
Status = Literal["pending", "in_progress", "complete", "failed", "conflict"]
IdValue = str | int | uuid.UUID

CHANNEL = "idsql_id_changed"


@dataclass(frozen=True)
class IdChanged:
    """One replacement, from ``idsql.id_change_log`` (what a listener receives)."""

    log_id: int
    table: str
    old_id: str
    new_id: str
    touched: dict[str, int]
    created_at: datetime


@dataclass(frozen=True)
class PlanStep:
    """One row of ``idsql.plan_replace_id()``."""

    table_name: str
    constraint_name: str | None
    columns: list[str]
    rows: int
    strategy: str
    problem: str | None


@dataclass(frozen=True)
class SyncItem:
    """One row of ``idsql.sync_queue``."""

    id: int
    model_type: str
    model_id: str
    temporary_client_id: str | None
    operation: Operation
    payload: Any
    id_negotiation_status: Status
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    claimed_at: datetime | None


def _text(value: IdValue | None) -> str | None:
    return None if value is None else str(value)


def set_id_strategy(conn: Connectable, table: str, strategy: Strategy, generator: str | None = None) -> None:
    """Choose client or server IDs for *table*, and where server IDs come from (``idsql.set_id_strategy``)."""
    _db.fetch_all(conn, Q.SET_ID_STRATEGY, (table, strategy, generator))


def new_temp_id(conn: Connectable, table: str) -> str:
    """Return a temporary ID for a row of *table* that can never equal a permanent one (``idsql.new_temp_id``)."""
    result: str = _db.fetch_scalar(conn, Q.NEW_TEMP_ID, (table,))
    return result


def is_temp_id(conn: Connectable, table: str, id: IdValue) -> bool:
    """Return whether *id* is a temporary ID of *table* (``idsql.is_temp_id``)."""
    result: bool = _db.fetch_scalar(conn, Q.IS_TEMP_ID, (table, _text(id)))
    return result


def resolve_id(conn: Connectable, table: str, id: IdValue) -> str:
    """Return the permanent ID that replaced *id*, or *id* itself (``idsql.resolve_id``)."""
    result: str = _db.fetch_scalar(conn, Q.RESOLVE_ID, (table, _text(id)))
    return result


def replace_id_everywhere(conn: Connectable, table: str, old_id: IdValue, new_id: IdValue) -> dict[str, Any]:
    """Replace temporary *old_id* by *new_id* in the row, every reference and the queue.

    ``idsql.replace_id_everywhere``; returns ``{"table", "old_id", "new_id", "log_id", "touched": {table: rows}}``.
    """
    result: dict[str, Any] = _db.fetch_scalar(conn, Q.REPLACE_ID_EVERYWHERE, (table, _text(old_id), _text(new_id)))
    return result


def plan_replace_id(conn: Connectable, table: str, old_id: IdValue) -> list[PlanStep]:
    """Return what replacing *old_id* would rewrite, without writing (``idsql.plan_replace_id``)."""
    return [PlanStep(*row) for row in _db.fetch_all(conn, Q.PLAN_REPLACE_ID, (table, _text(old_id)))]


def assign_server_id(conn: Connectable, table: str, temp_id: IdValue) -> str:
    """Allocate a permanent ID for *temp_id* and replace it everywhere (``idsql.assign_server_id``)."""
    result: str = _db.fetch_scalar(conn, Q.ASSIGN_SERVER_ID, (table, _text(temp_id)))
    return result


def _batch(batch: Iterable[Mapping[str, Any]]) -> Jsonb:
    return Jsonb([{k: _text(v) for k, v in entry.items()} for entry in batch])


def negotiate_ids(conn: Connectable, batch: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Replace many ``{"table", "temp_id"[, "new_id"]}`` in one go, one notification (``idsql.negotiate_ids``)."""
    result: list[dict[str, Any]] = _db.fetch_scalar(conn, Q.NEGOTIATE_IDS, (_batch(batch),))
    return result


def _enqueue_params(
    model_type: str, model_id: IdValue, operation: str, payload: Any, temporary_client_id: IdValue | None
) -> tuple[Any, ...]:
    return (
        model_type,
        _text(model_id),
        operation,
        Jsonb(payload if payload is not None else {}),
        _text(temporary_client_id),
    )


def enqueue_sync(
    conn: Connectable,
    model_type: str,
    model_id: IdValue,
    operation: Operation,
    payload: Any = None,
    temporary_client_id: IdValue | None = None,
) -> int:
    """Queue a change of one row for the remote API; return the item's id (``idsql.enqueue_sync``)."""
    params = _enqueue_params(model_type, model_id, operation, payload, temporary_client_id)
    result: int = _db.fetch_scalar(conn, Q.ENQUEUE_SYNC, params)
    return result


def claim_sync_batch(conn: Connectable, n: int, max_attempts: int = 5) -> list[SyncItem]:
    """Claim up to *n* items, oldest first, skipping those other workers hold (``idsql.claim_sync_batch``)."""
    return [SyncItem(*row) for row in _db.fetch_all(conn, Q.CLAIM_SYNC_BATCH, (n, max_attempts))]


def complete_sync(conn: Connectable, id: int, server_id: IdValue | None = None) -> SyncItem:
    """Mark a claimed item complete, first replacing its temporary ID by *server_id* (``idsql.complete_sync``)."""
    return SyncItem(*_db.fetch_all(conn, Q.COMPLETE_SYNC, (id, _text(server_id)))[0])


def fail_sync(conn: Connectable, id: int, error: str, conflict: bool = False) -> SyncItem:
    """Record a failed attempt of a claimed item: failed (retried) or conflict (``idsql.fail_sync``)."""
    return SyncItem(*_db.fetch_all(conn, Q.FAIL_SYNC, (id, error, conflict))[0])


def enable_late_reference_resolution(
    conn: Connectable, table: str, mode: Literal["resolve", "reject"] = "resolve"
) -> None:
    """Resolve or refuse replaced temporary IDs in *table*'s foreign keys.

    ``idsql.enable_late_reference_resolution``: the trigger ``idsql_negotiation_resolve``.
    """
    _db.fetch_all(conn, Q.ENABLE_LATE_REFERENCE_RESOLUTION, (table, mode))


def disable_late_reference_resolution(conn: Connectable, table: str) -> None:
    """Remove the late-reference trigger from *table* (``idsql.disable_late_reference_resolution``)."""
    _db.fetch_all(conn, Q.DISABLE_LATE_REFERENCE_RESOLUTION, (table,))


def _log_query(payload: str) -> tuple[LiteralString, tuple[Any, ...]]:
    """Return the change-log query that reads the events behind one notification."""
    data = json.loads(payload)
    if "txid" in data:  # negotiate_ids: one notification for the batch
        return Q.ID_CHANGES_OF_BATCH, (data["first_log_id"], data["last_log_id"], data["txid"])
    return Q.ID_CHANGE, (data["log_id"],)


class _Seen:
    """The log ids already yielded: replay and live notifications overlap, each event is yielded once.

    Only the most recent :attr:`KEEP` ids are remembered, so a listener that runs for months
    does not grow: an overlap is at most one replay's worth of events.
    """

    KEEP = 100_000

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def fresh(self, rows: Iterable[tuple[Any, ...]]) -> list[IdChanged]:
        events = [IdChanged(*row) for row in rows if row[0] not in self.ids]
        self.ids.update(e.log_id for e in events)
        if len(self.ids) > self.KEEP:
            self.ids = set(sorted(self.ids)[-self.KEEP // 2 :])
        return events


def _check_autocommit(autocommit: bool) -> None:
    if not autocommit:
        raise psycopg.ProgrammingError(
            "listen_id_changes needs an autocommit connection: in a transaction, notifications "
            "are only delivered between transactions; connect with autocommit=True"
        )


def _check_direct(key_pid: int, server_pid: int) -> None:
    """Refuse a connection that does not lead straight to one PostgreSQL backend.

    PostgreSQL tells a client its backend's process id when it connects (BackendKeyData,
    ``conn.info.backend_pid``). A pooler such as PgBouncer answers the connection itself and
    makes up that key, since the client may be served by any backend, one transaction at a time;
    so when ``pg_backend_pid()`` differs from the key, something stands between us and the
    server. In transaction pooling the LISTEN stays on a backend that is handed to other clients
    and notifications are lost; a session pool would keep it, but from the client the two look
    the same, so both are refused.
    """
    if key_pid != server_pid:
        raise psycopg.ProgrammingError(
            "listen_id_changes needs a direct connection to PostgreSQL: this one goes through a pooler "
            f"or proxy (the server's backend pid is {server_pid}, the connection was told {key_pid}), "
            "and LISTEN through transaction pooling loses notifications; connect to the server itself"
        )


def listen_id_changes(
    conn: psycopg.Connection[Any], *, since_log_id: int | None = None, timeout: float | None = None
) -> Iterator[IdChanged]:
    """Yield an :class:`IdChanged` for every committed replacement, as it commits.

    LISTENs on ``idsql_id_changed``, then first replays the change log after
    *since_log_id* (pass the last ``log_id`` you handled to receive what you missed
    while away), then follows live notifications, reading each event from the log.
    Needs a psycopg connection in autocommit mode, used for nothing else meanwhile, straight to
    the server: through a pooler (PgBouncer) it raises ``psycopg.ProgrammingError``, since a
    transaction-pooled LISTEN loses notifications (the check: ``pg_backend_pid()`` must equal
    the backend pid the connection was given when it connected).
    Stops after *timeout* seconds (None: never).
    """
    _check_autocommit(conn.autocommit)
    _check_direct(conn.info.backend_pid, _db.fetch_scalar(conn, Q.BACKEND_PID))
    deadline = None if timeout is None else monotonic() + timeout
    seen = _Seen()
    conn.execute(Q.LISTEN_ID_CHANGED)
    if since_log_id is not None:
        yield from seen.fresh(_db.fetch_all(conn, Q.ID_CHANGES_SINCE, (since_log_id,)))
    while deadline is None or monotonic() < deadline:
        remaining = None if deadline is None else max(0.0, deadline - monotonic())
        # Collect first: the connection is locked while notifies() runs.
        notes = list(conn.notifies(timeout=remaining, stop_after=1))
        for note in notes:
            query, params = _log_query(note.payload)
            yield from seen.fresh(_db.fetch_all(conn, query, params))
