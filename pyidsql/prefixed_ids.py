"""Prefixed IDs (``CUS-AAA0001``): one wrapper per ``idsql`` function, same names.

The SQL is in ``sql/prefixed_ids/``; :mod:`pyidsql.aio` runs the same wrappers on an async connection.

Every wrapper runs in the caller's transaction and never commits: in gapless
mode, commit the transaction that stores the ID, and a rollback gives it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from pyidsql._calls import Steps, rows, scalar, wrapper

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


@wrapper
def generate_id(prefix: str) -> Steps[str]:
    """Return the next ID for *prefix*, e.g. ``"CUS-AAA0001"`` (``idsql.generate_id``)."""
    result: str = yield from scalar("SELECT idsql.generate_id(%s)", (prefix,))
    return result


@wrapper
def bulk_generate_ids(prefix: str, n: int) -> Steps[list[str]]:
    """Return *n* consecutive IDs for *prefix*, ascending (``idsql.bulk_generate_ids``)."""
    return [row[0] for row in (yield from rows("SELECT idsql.bulk_generate_ids(%s, %s)", (prefix, n)))]


@wrapper
def current_id(prefix: str) -> Steps[str | None]:
    """Return the last ID issued for *prefix*, or None; consumes nothing (``idsql.current_id``)."""
    result: str | None = yield from scalar("SELECT idsql.current_id(%s)", (prefix,))
    return result


@wrapper
def reset_sequence(prefix: str, last_id: str | None) -> Steps[None]:
    """Make the next ID of *prefix* follow *last_id*; None restarts it (``idsql.reset_sequence``)."""
    yield from rows("SELECT idsql.reset_sequence(%s, %s)", (prefix, last_id))


@wrapper
def configure_prefix(prefix: str, mode: Mode = "gapless", digits: int = 4, min_letters: int = 3) -> Steps[None]:
    """Create *prefix* or change its mode and format (``idsql.configure_prefix``)."""
    query = "SELECT idsql.configure_prefix(%s, mode => %s, digits => %s, min_letters => %s)"
    yield from rows(query, (prefix, mode, digits, min_letters))


@wrapper
def sync_prefix(prefix: str, source: str, id_column: str) -> Steps[str | None]:
    """Move *prefix*'s counter forward to the highest ID in *source.id_column* (``idsql.sync_prefix``).

    *source* is a table name as SQL would resolve it (``"sales.invoice"``), passed as a
    value and cast to ``regclass`` by the server, never spliced into SQL.
    """
    result: str | None = yield from scalar(
        "SELECT idsql.sync_prefix(%s, %s::regclass, %s)", (prefix, source, id_column)
    )
    return result


@wrapper
def prefix_stats() -> Steps[list[PrefixStats]]:
    """Return one :class:`PrefixStats` per prefix (``idsql.prefix_stats``)."""
    query = (
        "SELECT prefix, mode, last_id, issued, capacity_left_in_width, created_at, updated_at FROM idsql.prefix_stats()"
    )
    return [PrefixStats(*row) for row in (yield from rows(query))]


@wrapper
def id_health_check() -> Steps[dict[str, Any]]:
    """Generate a probe ID and roll it back; return the report (``idsql.id_health_check``)."""
    result: dict[str, Any] = yield from scalar("SELECT idsql.id_health_check()")
    return result


@wrapper
def format_id(prefix: str, ordinal: int, *, digits: int = 4, min_letters: int = 3) -> Steps[str]:
    """Return the ID with *ordinal* for *prefix* (``idsql.format_id``)."""
    query = "SELECT idsql.format_id(%s, %s, digits => %s, min_letters => %s)"
    result: str = yield from scalar(query, (prefix, ordinal, digits, min_letters))
    return result


@wrapper
def parse_id(id: str, *, digits: int = 4, min_letters: int = 3) -> Steps[ParsedId]:
    """Return the parts of *id* and its ordinal (``idsql.parse_id``)."""
    query = "SELECT prefix, letters, number, ordinal FROM idsql.parse_id(%s, digits => %s, min_letters => %s)"
    return ParsedId(*(yield from rows(query, (id, digits, min_letters)))[0])


@wrapper
def is_valid_id(id: str | None, prefix: str | None = None, *, digits: int = 4, min_letters: int = 3) -> Steps[bool]:
    """Return whether *id* is a canonical ID (of *prefix*, if given) (``idsql.is_valid_id``)."""
    query = "SELECT idsql.is_valid_id(%s, %s, digits => %s, min_letters => %s)"
    result: bool = yield from scalar(query, (id, prefix, digits, min_letters))
    return result


@wrapper
def increment_id(id: str, *, digits: int = 4, min_letters: int = 3) -> Steps[str]:
    """Return the ID after *id*, e.g. ``CUS-ZZZ9999`` -> ``CUS-AAAA0001`` (``idsql.increment_id``)."""
    query = "SELECT idsql.increment_id(%s, digits => %s, min_letters => %s)"
    result: str = yield from scalar(query, (id, digits, min_letters))
    return result


@wrapper
def normalize_id(id: str, *, digits: int = 4, min_letters: int = 3) -> Steps[str]:
    """Return *id* with its format corrected (``' cus-aab12'`` -> ``'CUS-AAB0012'``) (``idsql.normalize_id``)."""
    query = "SELECT idsql.normalize_id(%s, digits => %s, min_letters => %s)"
    result: str = yield from scalar(query, (id, digits, min_letters))
    return result
