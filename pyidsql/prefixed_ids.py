"""Prefixed IDs (``CUS-AAA0001``): one wrapper per ``idsql`` function, same names.

Every wrapper runs in the caller's transaction and never commits: in gapless
mode, commit the transaction that stores the ID, and a rollback gives it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from pyidsql import _db
from pyidsql import _queries as Q
from pyidsql._db import Connectable

Mode = Literal["gapless", "fast"]


class IdPrefixes:
    """The common prefixes of the original ID manager."""

    CUSTOMER: Final = "CUS"
    VENDOR: Final = "VEN"
    WAREHOUSE: Final = "WH"
    ITEM_PACKAGING: Final = "PKG"
    UNIT_OF_MEASUREMENT: Final = "UOM"
    PURCHASE_ORDER: Final = "PUR"
    SALES_ORDER: Final = "SAL"
    INVOICE: Final = "INV"
    RECEIPT: Final = "REC"
    INVENTORY: Final = "INVY"

    @classmethod
    def all(cls) -> dict[str, str]:
        """Return every constant as ``{name: prefix}``."""
        return {k: v for k, v in vars(cls).items() if k.isupper()}


@dataclass(frozen=True)
class ParsedId:
    """The parts of an ID, as ``idsql.parse_id`` returns them."""

    prefix: str
    letters: str
    number: int
    ordinal: int


@dataclass(frozen=True)
class PrefixStats:
    """One row of ``idsql.prefix_stats()``."""

    prefix: str
    mode: Mode
    last_id: str | None
    issued: int
    capacity_left_in_width: int
    created_at: datetime
    updated_at: datetime


def generate_id(conn: Connectable, prefix: str) -> str:
    """Return the next ID for *prefix*, e.g. ``"CUS-AAA0001"`` (``idsql.generate_id``)."""
    result: str = _db.fetch_scalar(conn, Q.GENERATE_ID, (prefix,))
    return result


def bulk_generate_ids(conn: Connectable, prefix: str, n: int) -> list[str]:
    """Return *n* consecutive IDs for *prefix*, ascending (``idsql.bulk_generate_ids``)."""
    return [row[0] for row in _db.fetch_all(conn, Q.BULK_GENERATE_IDS, (prefix, n))]


def current_id(conn: Connectable, prefix: str) -> str | None:
    """Return the last ID issued for *prefix*, or None; consumes nothing (``idsql.current_id``)."""
    result: str | None = _db.fetch_scalar(conn, Q.CURRENT_ID, (prefix,))
    return result


def reset_sequence(conn: Connectable, prefix: str, last_id: str | None) -> None:
    """Make the next ID of *prefix* follow *last_id*; None restarts it (``idsql.reset_sequence``)."""
    _db.fetch_all(conn, Q.RESET_SEQUENCE, (prefix, last_id))


def configure_prefix(
    conn: Connectable,
    prefix: str,
    mode: Mode = "gapless",
    digits: int = 4,
    min_letters: int = 3,
) -> None:
    """Create *prefix* or change its mode and format (``idsql.configure_prefix``)."""
    _db.fetch_all(conn, Q.CONFIGURE_PREFIX, (prefix, mode, digits, min_letters))


def sync_prefix(conn: Connectable, prefix: str, source: str, id_column: str) -> str | None:
    """Move *prefix*'s counter forward to the highest ID in *source.id_column* (``idsql.sync_prefix``).

    *source* is a table name as SQL would resolve it (``"sales.invoice"``), passed as a
    value and cast to ``regclass`` by the server, never spliced into SQL.
    """
    result: str | None = _db.fetch_scalar(conn, Q.SYNC_PREFIX, (prefix, source, id_column))
    return result


def prefix_stats(conn: Connectable) -> list[PrefixStats]:
    """Return one :class:`PrefixStats` per prefix (``idsql.prefix_stats``)."""
    return [PrefixStats(*row) for row in _db.fetch_all(conn, Q.PREFIX_STATS)]


def id_health_check(conn: Connectable) -> dict[str, Any]:
    """Generate a probe ID and roll it back; return the report (``idsql.id_health_check``)."""
    result: dict[str, Any] = _db.fetch_scalar(conn, Q.ID_HEALTH_CHECK)
    return result


def format_id(conn: Connectable, prefix: str, ordinal: int, *, digits: int = 4, min_letters: int = 3) -> str:
    """Return the ID with *ordinal* for *prefix* (``idsql.format_id``)."""
    result: str = _db.fetch_scalar(conn, Q.FORMAT_ID, (prefix, ordinal, digits, min_letters))
    return result


def parse_id(conn: Connectable, id: str, *, digits: int = 4, min_letters: int = 3) -> ParsedId:
    """Return the parts of *id* and its ordinal (``idsql.parse_id``)."""
    return ParsedId(*_db.fetch_all(conn, Q.PARSE_ID, (id, digits, min_letters))[0])


def is_valid_id(
    conn: Connectable,
    id: str | None,
    prefix: str | None = None,
    *,
    digits: int = 4,
    min_letters: int = 3,
) -> bool:
    """Return whether *id* is a canonical ID (of *prefix*, if given) (``idsql.is_valid_id``)."""
    result: bool = _db.fetch_scalar(conn, Q.IS_VALID_ID, (id, prefix, digits, min_letters))
    return result


def increment_id(conn: Connectable, id: str, *, digits: int = 4, min_letters: int = 3) -> str:
    """Return the ID after *id*, e.g. ``CUS-ZZZ9999`` -> ``CUS-AAAA0001`` (``idsql.increment_id``)."""
    result: str = _db.fetch_scalar(conn, Q.INCREMENT_ID, (id, digits, min_letters))
    return result


def normalize_id(conn: Connectable, id: str, *, digits: int = 4, min_letters: int = 3) -> str:
    """Return *id* with its format corrected (``' cus-aab12'`` -> ``'CUS-AAB0012'``) (``idsql.normalize_id``)."""
    result: str = _db.fetch_scalar(conn, Q.NORMALIZE_ID, (id, digits, min_letters))
    return result
