"""Async twins of the pyidsql wrappers, for a psycopg ``AsyncConnection``.

Same names, arguments and SQL as the sync functions; ``await`` them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyidsql import _db
from pyidsql import _queries as Q
from pyidsql._db import AsyncConnectable
from pyidsql.prefixed import Mode, ParsedId, PrefixStats
from pyidsql.sequences import SequenceFix, SequenceReportRow


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


# --- sequence repair


async def sequence_report(
    conn: AsyncConnectable, schemas: Sequence[str] | None = None
) -> list[SequenceReportRow]:
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
