"""State versions: one wrapper per ``idsql`` function, same names.

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

from pyidsql import _db
from pyidsql import _queries as Q
from pyidsql._db import Connectable

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


def enable_state_version(
    conn: Connectable,
    tbl: str,
    version_column: str | None = "state_version",
    parent: str | None = None,
    parent_fk: str | None = None,
    history: bool = False,
) -> None:
    """Track changes of *tbl*; idempotent (``idsql.enable_state_version``)."""
    _db.fetch_all(conn, Q.ENABLE_STATE_VERSION, (tbl, version_column, parent, parent_fk, history))


def disable_state_version(conn: Connectable, tbl: str) -> None:
    """Remove the triggers from *tbl*; keep its data and history (``idsql.disable_state_version``)."""
    _db.fetch_all(conn, Q.DISABLE_STATE_VERSION, (tbl,))


def row_history(conn: Connectable, tbl: str, key: dict[str, Any]) -> list[RowVersion]:
    """Return every committed version of one row, oldest first (``idsql.row_history``)."""
    return [RowVersion(*row) for row in _db.fetch_all(conn, Q.ROW_HISTORY, (tbl, Jsonb(key)))]


def children_as_of(
    conn: Connectable, tbl: str, parent_key: dict[str, Any], parent_version: int
) -> list[dict[str, Any]]:
    """Return the rows of *tbl* under a parent as they were at *parent_version* (``idsql.children_as_of``)."""
    rows = _db.fetch_all(conn, Q.CHILDREN_AS_OF, (tbl, Jsonb(parent_key), parent_version))
    return [row[0] for row in rows]


def changes_between(
    conn: Connectable, root: str, root_key: dict[str, Any], from_version: int, to_version: int
) -> list[Change]:
    """Return the rows added, removed or changed under a root between two versions (``idsql.changes_between``)."""
    rows = _db.fetch_all(conn, Q.CHANGES_BETWEEN, (root, Jsonb(root_key), from_version, to_version))
    return [Change(*row) for row in rows]


def rollback_to_version(conn: Connectable, root: str, root_key: dict[str, Any], target_version: int) -> int:
    """Restore everything under a root row to *target_version* as a new version; return it.

    (``idsql.rollback_to_version``)
    """
    result: int = _db.fetch_scalar(conn, Q.ROLLBACK_TO_VERSION, (root, Jsonb(root_key), target_version))
    return result


def prune_history(conn: Connectable, root: str, keep_versions: int = 100) -> int:
    """Drop history older than the last *keep_versions* versions of each root row (``idsql.prune_history``)."""
    result: int = _db.fetch_scalar(conn, Q.PRUNE_HISTORY, (root, keep_versions))
    return result
