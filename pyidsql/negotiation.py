"""ID negotiation: temporary client IDs replaced by server IDs everywhere.

The SQL is in ``sql/negotiation/``; :mod:`pyidsql.aio` runs the same wrappers on an async connection.

One wrapper per ``idsql`` function, same names. IDs travel as text (an ``int`` or
``uuid.UUID`` is converted); tables are names as SQL would resolve them in the
connection's search_path, passed as values and cast to ``regclass`` by the server.
Every wrapper runs in the caller's transaction and never commits: a replacement,
its log row and its notification become visible together on commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import Any, Literal, LiteralString

import psycopg
from psycopg.types.json import Jsonb

from pyidsql._calls import Connection, Event, Execute, Listener, Notifies, Steps, listener, rows, scalar, wrapper

Strategy = Literal["client", "server"]
Operation = Literal["create", "update", "delete"]
Status = Literal["pending", "in_progress", "complete", "failed", "conflict"]
IdValue = str | int | uuid.UUID

CHANNEL: LiteralString = "idsql_id_changed"


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


@wrapper
def set_id_strategy(table: str, strategy: Strategy, generator: str | None = None) -> Steps[None]:
    """Choose client or server IDs for *table*, and where server IDs come from (``idsql.set_id_strategy``)."""
    yield from rows("SELECT idsql.set_id_strategy(%s::regclass, %s, %s)", (table, strategy, generator))


@wrapper
def new_temp_id(table: str) -> Steps[str]:
    """Return a temporary ID for a row of *table* that can never equal a permanent one (``idsql.new_temp_id``)."""
    result: str = yield from scalar("SELECT idsql.new_temp_id(%s::regclass)", (table,))
    return result


@wrapper
def is_temp_id(table: str, id: IdValue) -> Steps[bool]:
    """Return whether *id* is a temporary ID of *table* (``idsql.is_temp_id``)."""
    result: bool = yield from scalar("SELECT idsql.is_temp_id(%s::regclass, %s)", (table, _text(id)))
    return result


@wrapper
def resolve_id(table: str, id: IdValue) -> Steps[str]:
    """Return the permanent ID that replaced *id*, or *id* itself (``idsql.resolve_id``)."""
    result: str = yield from scalar("SELECT idsql.resolve_id(%s::regclass, %s)", (table, _text(id)))
    return result


@wrapper
def replace_id_everywhere(table: str, old_id: IdValue, new_id: IdValue) -> Steps[dict[str, Any]]:
    """Replace temporary *old_id* by *new_id* in the row, every reference and the queue.

    ``idsql.replace_id_everywhere``; returns ``{"table", "old_id", "new_id", "log_id", "touched": {table: rows}}``.
    """
    query = "SELECT idsql.replace_id_everywhere(%s::regclass, %s, %s)"
    result: dict[str, Any] = yield from scalar(query, (table, _text(old_id), _text(new_id)))
    return result


@wrapper
def plan_replace_id(table: str, old_id: IdValue) -> Steps[list[PlanStep]]:
    """Return what replacing *old_id* would rewrite, without writing (``idsql.plan_replace_id``)."""
    query = (
        "SELECT table_name::text, constraint_name::text, columns::text[], rows, strategy, problem"
        " FROM idsql.plan_replace_id(%s::regclass, %s)"
    )
    return [PlanStep(*row) for row in (yield from rows(query, (table, _text(old_id))))]


@wrapper
def assign_server_id(table: str, temp_id: IdValue) -> Steps[str]:
    """Allocate a permanent ID for *temp_id* and replace it everywhere (``idsql.assign_server_id``)."""
    result: str = yield from scalar("SELECT idsql.assign_server_id(%s::regclass, %s)", (table, _text(temp_id)))
    return result


def _batch(batch: Iterable[Mapping[str, Any]]) -> Jsonb:
    return Jsonb([{k: _text(v) for k, v in entry.items()} for entry in batch])


@wrapper
def negotiate_ids(batch: Iterable[Mapping[str, Any]]) -> Steps[list[dict[str, Any]]]:
    """Replace many ``{"table", "temp_id"[, "new_id"]}`` in one go, one notification (``idsql.negotiate_ids``)."""
    # Table names are resolved here, in the caller's search_path, and sent as oids.
    query = (
        "SELECT idsql.negotiate_ids(coalesce((SELECT jsonb_agg(e.value || jsonb_build_object("
        "'table', (e.value ->> 'table')::regclass::oid::bigint) ORDER BY e.ord)"
        " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e (value, ord)), '[]'))"
    )
    result: list[dict[str, Any]] = yield from scalar(query, (_batch(batch),))
    return result


_SYNC_ITEM: LiteralString = (
    "SELECT id, model_type::text, model_id, temporary_client_id, operation, payload, id_negotiation_status,"
    " attempts, last_error, created_at, updated_at, claimed_at FROM "
)


@wrapper
def enqueue_sync(
    model_type: str,
    model_id: IdValue,
    operation: Operation,
    payload: Any = None,
    temporary_client_id: IdValue | None = None,
) -> Steps[int]:
    """Queue a change of one row for the remote API; return the item's id (``idsql.enqueue_sync``)."""
    params = (
        model_type,
        _text(model_id),
        operation,
        Jsonb(payload if payload is not None else {}),
        _text(temporary_client_id),
    )
    result: int = yield from scalar("SELECT idsql.enqueue_sync(%s::regclass, %s, %s, %s::jsonb, %s)", params)
    return result


@wrapper
def claim_sync_batch(n: int, max_attempts: int = 5) -> Steps[list[SyncItem]]:
    """Claim up to *n* items, oldest first, skipping those other workers hold (``idsql.claim_sync_batch``)."""
    query = _SYNC_ITEM + "idsql.claim_sync_batch(%s, max_attempts => %s)"
    return [SyncItem(*row) for row in (yield from rows(query, (n, max_attempts)))]


@wrapper
def complete_sync(id: int, server_id: IdValue | None = None) -> Steps[SyncItem]:
    """Mark a claimed item complete, first replacing its temporary ID by *server_id* (``idsql.complete_sync``)."""
    return SyncItem(*(yield from rows(_SYNC_ITEM + "idsql.complete_sync(%s, %s)", (id, _text(server_id))))[0])


@wrapper
def fail_sync(id: int, error: str, conflict: bool = False) -> Steps[SyncItem]:
    """Record a failed attempt of a claimed item: failed (retried) or conflict (``idsql.fail_sync``)."""
    return SyncItem(*(yield from rows(_SYNC_ITEM + "idsql.fail_sync(%s, %s, %s)", (id, error, conflict)))[0])


@wrapper
def enable_late_reference_resolution(table: str, mode: Literal["resolve", "reject"] = "resolve") -> Steps[None]:
    """Resolve or refuse replaced temporary IDs in *table*'s foreign keys.

    ``idsql.enable_late_reference_resolution``: the trigger ``idsql_negotiation_resolve``.
    """
    yield from rows("SELECT idsql.enable_late_reference_resolution(%s::regclass, %s)", (table, mode))


@wrapper
def disable_late_reference_resolution(table: str) -> Steps[None]:
    """Remove the late-reference trigger from *table* (``idsql.disable_late_reference_resolution``)."""
    yield from rows("SELECT idsql.disable_late_reference_resolution(%s::regclass)", (table,))


_ID_CHANGE: LiteralString = (
    "SELECT l.id, l.touched ->> 'table', l.old_id, l.new_id, l.touched -> 'touched', l.created_at"
    " FROM idsql.id_change_log AS l"
)


def _log_query(payload: str) -> tuple[LiteralString, tuple[Any, ...]]:
    """Return the change-log query that reads the events behind one notification."""
    data = json.loads(payload)
    if "txid" in data:  # negotiate_ids: one notification for the batch
        query = _ID_CHANGE + " WHERE l.id BETWEEN %s AND %s AND l.txid = %s::xid8 ORDER BY l.id"
        return query, (data["first_log_id"], data["last_log_id"], data["txid"])
    return _ID_CHANGE + " WHERE l.id = %s", (data["log_id"],)


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


@listener
def listen_id_changes(*, since_log_id: int | None = None, timeout: float | None = None) -> Listener[IdChanged]:
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
    conn = yield Connection()
    _check_autocommit(conn.autocommit)
    _check_direct(conn.info.backend_pid, (yield from scalar("SELECT pg_catalog.pg_backend_pid()")))
    deadline = None if timeout is None else monotonic() + timeout
    seen = _Seen()
    yield Execute("LISTEN " + CHANNEL)
    if since_log_id is not None:
        for event in seen.fresh((yield from rows(_ID_CHANGE + " WHERE l.id > %s ORDER BY l.id", (since_log_id,)))):
            yield Event(event)
    while deadline is None or monotonic() < deadline:
        remaining = None if deadline is None else max(0.0, deadline - monotonic())
        for payload in (yield Notifies(remaining)):
            query, params = _log_query(payload)
            for event in seen.fresh((yield from rows(query, params))):
                yield Event(event)
