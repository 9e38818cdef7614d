"""State versions: one wrapper per ``idsql`` function, same names.

The SQL is in ``sql/state_versions/``; :mod:`pyidsql.aio` runs the same wrappers on an async connection.

A tracked table's version column goes up once per transaction that changes the row, and each
change counts once for every ancestor up to the root (``enable_state_version(…, parent=…)``).
Tables are passed as names (``"chat.entity"``), sent as values and cast to ``regclass`` by the
server; keys are dicts such as ``{"entity_id": "A"}``. Every wrapper runs in the caller's
transaction and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg.types.json import Jsonb

from pyidsql._calls import Steps, rows, scalar, wrapper

Operation = Literal["INSERT", "UPDATE", "DELETE", "BASELINE"]
ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class RowVersion:
    """One row of ``idsql.row_history()``: a committed version of one row."""

    state_version: int | None
    root_version: int | None
    operation: Operation
    row_data: dict[str, Any]
    changed_at: datetime


@dataclass(frozen=True)
class Change:
    """One row of ``idsql.changes_between()``."""

    table_name: str
    key: dict[str, Any]
    change: ChangeKind
    old_data: dict[str, Any] | None
    new_data: dict[str, Any] | None
    changed_fields: list[str] | None


@wrapper
def enable_state_version(
    table: str,
    version_column: str | None = "state_version",
    parent: str | None = None,
    parent_fk: str | None = None,
    history: bool = False,
) -> Steps[None]:
    """Track changes of *table*; idempotent (``idsql.enable_state_version``)."""
    query = (
        "SELECT idsql.enable_state_version(%s::regclass, version_column => %s, parent => %s::regclass,"
        " parent_fk => %s, history => %s)"
    )
    yield from rows(query, (table, version_column, parent, parent_fk, history))


@wrapper
def disable_state_version(table: str) -> Steps[None]:
    """Remove the triggers from *table*; keep its data and history (``idsql.disable_state_version``)."""
    yield from rows("SELECT idsql.disable_state_version(%s::regclass)", (table,))


@wrapper
def row_history(table: str, key: dict[str, Any], as_of: datetime | None = None) -> Steps[list[RowVersion]]:
    """Return every committed version of one row, oldest first (``idsql.row_history``).

    With *as_of*, only the versions up to that time: the last is the row as it was then.
    """
    columns = "SELECT state_version, root_version, operation, row_data, changed_at"
    if as_of is None:
        query = f"{columns} FROM idsql.row_history(%s::regclass, %s::jsonb)"
        params: tuple[Any, ...] = (table, Jsonb(key))
    else:
        query = f"{columns} FROM idsql.row_history(%s::regclass, %s::jsonb, %s::timestamptz)"
        params = (table, Jsonb(key), as_of)
    return [RowVersion(*row) for row in (yield from rows(query, params))]


@wrapper
def children_as_of(table: str, parent_key: dict[str, Any], parent_version: int) -> Steps[list[dict[str, Any]]]:
    """Return the rows of *table* under a parent as they were at *parent_version* (``idsql.children_as_of``)."""
    query = "SELECT idsql.children_as_of(%s::regclass, %s::jsonb, %s)"
    return [row[0] for row in (yield from rows(query, (table, Jsonb(parent_key), parent_version)))]


@wrapper
def children_as_of_time(table: str, parent_key: dict[str, Any], as_of: datetime) -> Steps[list[dict[str, Any]]]:
    """Return the rows of *table* under a parent as they were at a time (``idsql.children_as_of_time``).

    The answer is the parent's children at one of its versions: the last before the first
    transaction that began after *as_of*.
    """
    query = "SELECT idsql.children_as_of_time(%s::regclass, %s::jsonb, %s::timestamptz)"
    return [row[0] for row in (yield from rows(query, (table, Jsonb(parent_key), as_of)))]


@wrapper
def changes_between(root: str, root_key: dict[str, Any], from_version: int, to_version: int) -> Steps[list[Change]]:
    """Return the rows added, removed or changed under a root between two versions (``idsql.changes_between``)."""
    query = (
        "SELECT table_name::text, key, change, old_data, new_data, changed_fields"
        " FROM idsql.changes_between(%s::regclass, %s::jsonb, %s, %s)"
    )
    return [Change(*row) for row in (yield from rows(query, (root, Jsonb(root_key), from_version, to_version)))]


@wrapper
def rollback_to_version(root: str, root_key: dict[str, Any], target_version: int) -> Steps[int]:
    """Restore everything under a root row to *target_version* as a new version; return it.

    (``idsql.rollback_to_version``)
    """
    query = "SELECT idsql.rollback_to_version(%s::regclass, %s::jsonb, %s)"
    result: int = yield from scalar(query, (root, Jsonb(root_key), target_version))
    return result


@wrapper
def prune_history(root: str, keep_versions: int = 100) -> Steps[int]:
    """Drop history older than the last *keep_versions* versions of each root row (``idsql.prune_history``)."""
    query = "SELECT idsql.prune_history(%s::regclass, keep_versions => %s)"
    result: int = yield from scalar(query, (root, keep_versions))
    return result
