"""Async twins of the pyidsql wrappers, for a psycopg ``AsyncConnection``.

Same names, arguments and SQL as the sync functions; ``await`` them.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from pyidsql import _db
from pyidsql import _queries as Q
from pyidsql._db import AsyncConnectable
from pyidsql.prefixed import Mode, ParsedId, PrefixStats
from pyidsql.state_versions import Change, RowVersion


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


async def rollback_to_version(
    conn: AsyncConnectable, root: str, root_key: dict[str, Any], target_version: int
) -> int:
    """Restore everything under a root row to *target_version* as a new version (``idsql.rollback_to_version``)."""
    result: int = await _db.afetch_scalar(conn, Q.ROLLBACK_TO_VERSION, (root, Jsonb(root_key), target_version))
    return result


async def prune_history(conn: AsyncConnectable, root: str, keep_versions: int = 100) -> int:
    """Drop history older than the last *keep_versions* versions of each root row (``idsql.prune_history``)."""
    result: int = await _db.afetch_scalar(conn, Q.PRUNE_HISTORY, (root, keep_versions))
    return result
