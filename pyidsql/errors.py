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

    def __init__(
        self, message: str | None = None, *, detail: str | None = None, hint: str | None = None
    ) -> None:
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


class NoSequence(IdsqlError, sqlstate="ID201"):
    """The column is not serial or identity and its DEFAULT calls no nextval."""


class SequenceOutOfRange(IdsqlError, sqlstate="ID202"):
    """The data leaves the sequence no room: one more value would pass its limit."""


class NeedsReadCommitted(IdsqlError, sqlstate="ID203"):
    """A sequence fix ran under REPEATABLE READ or SERIALIZABLE, whose snapshot predates its locks."""


def by_sqlstate() -> dict[str, type[IdsqlError]]:
    """Return the registry: SQLSTATE -> exception class."""
    return dict(_BY_SQLSTATE)


def translate(exc: BaseException) -> IdsqlError | None:
    """Return the IdsqlError for a psycopg error with one of idsql's codes, else None.

    An SQLAlchemy ``DBAPIError`` is looked through to the psycopg error it wraps.
    """
    exc = getattr(exc, "orig", None) or exc
    if not isinstance(exc, psycopg.Error):
        return None
    cls = _BY_SQLSTATE.get(exc.sqlstate or "")
    if cls is None:
        return None
    diag = exc.diag
    return cls(diag.message_primary, detail=diag.message_detail, hint=diag.message_hint)


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
