"""Exceptions for idsql's own SQLSTATEs (class ``ID``), registered by code.

Each class names one SQLSTATE raised by the SQL in ``sql/``; the wrappers turn a
``psycopg.Error`` with that code into the class and keep the original as
``__cause__``. Standard codes (``22023``, ``42703`` …) stay psycopg's own classes.

The third character of a code names the capability that raises it, so codes never clash:
``ID0xx`` prefixed IDs, ``ID1xx`` table IDs, ``ID2xx`` sequence repair, ``ID3xx`` state
versions, ``ID4xx`` ID negotiation, ``ID9xx`` installation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg

_BY_SQLSTATE: dict[str, type[IdsqlError]] = {}


class IdsqlError(Exception):
    """An error raised by an idsql SQL function."""

    sqlstate: ClassVar[str | None] = None

    def __init_subclass__(cls, sqlstate: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if sqlstate is not None:
            if sqlstate in _BY_SQLSTATE:
                raise TypeError(f"SQLSTATE {sqlstate} is already {_BY_SQLSTATE[sqlstate].__name__}")
            cls.sqlstate = sqlstate
            _BY_SQLSTATE[sqlstate] = cls

    def __init__(self, message: str | None = None, *, detail: str | None = None, hint: str | None = None) -> None:
        super().__init__(message or self.__doc__)
        self.detail = detail
        self.hint = hint

    def __str__(self) -> str:
        lines = [super().__str__()]
        if self.detail:
            lines.append(f"DETAIL: {self.detail}")
        if self.hint:
            lines.append(f"HINT: {self.hint}")
        return "\n".join(lines)


class InvalidPrefix(IdsqlError, sqlstate="ID001"):
    """The prefix is not 1-20 characters A-Z, 0-9 or _ starting with a letter or _."""


class InvalidId(IdsqlError, sqlstate="ID002"):
    """The text is not a valid ID for the format, and cannot be recovered."""


class PrefixMismatch(IdsqlError, sqlstate="ID003"):
    """The ID belongs to another prefix than the one given."""


class FormatLocked(IdsqlError, sqlstate="ID004"):
    """The prefix has issued IDs, so its format can no longer change."""


class RetriesExhausted(IdsqlError, sqlstate="ID101"):
    """insert_with_retry found the ID taken on every attempt (a lost race for a new ID is not one)."""


class IdColumnNotUnique(IdsqlError, sqlstate="ID102"):
    """The ID column of a table has no unique index on that column alone."""


class IdInData(IdsqlError, sqlstate="ID103"):
    """The data given to insert_with_retry contains the ID column, which it chooses itself."""


class UnsupportedKey(IdsqlError, sqlstate="ID401"):
    """The table has no single-column text, integer or uuid primary key that ID negotiation can rewrite."""


class InvalidStrategy(IdsqlError, sqlstate="ID402"):
    """The ID strategy or its generator is unknown, or cannot make IDs for the table's key."""


class StrategyLocked(IdsqlError, sqlstate="ID403"):
    """The table still has rows with temporary IDs, so its strategy cannot change."""


class ClientIdTable(IdsqlError, sqlstate="ID404"):
    """The table uses client IDs, which never change."""


class NotTemporaryId(IdsqlError, sqlstate="ID405"):
    """The ID to replace is not a temporary ID of the table."""


class TemporaryNewId(IdsqlError, sqlstate="ID406"):
    """The replacement ID is itself a temporary ID."""


class TemporaryIdNotFound(IdsqlError, sqlstate="ID407"):
    """No row of the table has the temporary ID, and it was never replaced."""


class MappingConflict(IdsqlError, sqlstate="ID408"):
    """The temporary ID was already replaced by another permanent ID."""


class IdCollision(IdsqlError, sqlstate="ID409"):
    """The new ID is already in use in the table."""


class UnsafeForeignKey(IdsqlError, sqlstate="ID410"):
    """A foreign key that references the ID cannot be rewritten safely; DETAIL names it."""


class HiddenReferences(IdsqlError, sqlstate="ID411"):
    """Row-level security may hide referencing rows from the caller."""


class InvalidStatusTransition(IdsqlError, sqlstate="ID412"):
    """A sync queue item cannot move from its status to the one asked."""


class SyncItemNotFound(IdsqlError, sqlstate="ID413"):
    """No sync queue item has the id."""


class InvalidBatch(IdsqlError, sqlstate="ID414"):
    """The negotiate_ids batch is not an array of {table, temp_id[, new_id]} objects."""


class ShardedId(IdsqlError, sqlstate="ID415"):
    """A table Citus manages holds the temporary ID (as its key or a foreign key): no rewrite in one statement."""


class StaleVersion(IdsqlError, sqlstate="ID301"):
    """An UPDATE set a row's version column to another value than its current one (optimistic lock)."""


class NotTracked(IdsqlError, sqlstate="ID302"):
    """The table (or the parent named) is not tracked by state versions, or has no version column."""


class HistoryNotKept(IdsqlError, sqlstate="ID303"):
    """The table was enabled without history, so there is nothing to read."""


class ParentFkNotFound(IdsqlError, sqlstate="ID304"):
    """No foreign key from the table to its parent's primary key (or none with the name given)."""


class AmbiguousParentFk(IdsqlError, sqlstate="ID305"):
    """Several foreign keys lead from the table to its parent; parent_fk must name one."""


class NoPrimaryKey(IdsqlError, sqlstate="ID306"):
    """The table has no primary key, which names rows in history and parent counting."""


class VersionNotKept(IdsqlError, sqlstate="ID307"):
    """The version asked for is not in the root row's history (pruned, in the future, or no history)."""


class ShardedTable(IdsqlError, sqlstate="ID308"):
    """State versions cannot track a table Citus manages (distributed, reference or Citus local)."""


class NoSequence(IdsqlError, sqlstate="ID201"):
    """The column is not serial or identity and its DEFAULT calls no nextval."""


class SequenceOutOfRange(IdsqlError, sqlstate="ID202"):
    """The data leaves the sequence no room: one more value would pass its limit."""


class NeedsReadCommitted(IdsqlError, sqlstate="ID203"):
    """A sequence fix ran under REPEATABLE READ or SERIALIZABLE, whose snapshot predates its locks."""


class VersionMismatch(IdsqlError, sqlstate="ID901"):
    """The installed idsql version is not the one the script expects (older, newer or unknown)."""


class ChannelMismatch(IdsqlError, sqlstate="ID902"):
    """idsql is installed through another channel: as an extension, or as a plain script."""


class NotOnCoordinator(IdsqlError, sqlstate="ID903"):
    """An idsql function was called on a Citus worker; its state lives on the coordinator, named in DETAIL."""


def by_sqlstate() -> dict[str, type[IdsqlError]]:
    """Return the registry: SQLSTATE -> exception class."""
    return dict(_BY_SQLSTATE)


def translate(exc: BaseException) -> IdsqlError | None:
    """Return the IdsqlError for a driver error with one of idsql's codes, else None.

    Reads psycopg 3, psycopg2 and asyncpg errors. An SQLAlchemy ``DBAPIError`` (``orig``) and a
    Django ``DatabaseError`` (``__cause__``) are looked through to the driver's error they wrap.
    """
    for candidate in (getattr(exc, "orig", None), exc, exc.__cause__):
        fields = _fields(candidate)
        if fields is not None:
            cls = _BY_SQLSTATE.get(fields[0])
            return None if cls is None else cls(fields[1], detail=fields[2], hint=fields[3])
    return None


def _fields(exc: object) -> tuple[str, str | None, str | None, str | None] | None:
    """SQLSTATE, message, DETAIL and HINT of a server error, as each driver spells them."""
    if isinstance(exc, psycopg.Error):
        d = exc.diag
        return exc.sqlstate or "", d.message_primary, d.message_detail, d.message_hint
    pgcode = getattr(exc, "pgcode", None)  # psycopg2
    if isinstance(pgcode, str):
        diag = getattr(exc, "diag", None)
        return (
            pgcode,
            getattr(diag, "message_primary", None),
            getattr(diag, "message_detail", None),
            getattr(diag, "message_hint", None),
        )
    sqlstate = getattr(exc, "sqlstate", None)  # asyncpg
    if isinstance(sqlstate, str) and hasattr(exc, "hint"):
        return sqlstate, getattr(exc, "message", None), getattr(exc, "detail", None), getattr(exc, "hint", None)
    return None


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise idsql's own SQLSTATEs as IdsqlError subclasses; leave the rest alone."""
    try:
        yield
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        raise mapped from exc
