"""Sequence repair: one wrapper per ``idsql`` function, same names.

After a restore, an import or inserts with explicit IDs, a serial or identity sequence falls
behind its table and the next insert fails with a duplicate key. These wrappers report the drift
and move sequences past the data. They run in the caller's transaction and never commit;
:func:`fix_all_sequences` is the exception only in name: it calls
``idsql.fix_all_sequences_report`` (the function), not the committing procedure, so the caller's
``commit()`` decides. The ``pyidsql fix-sequences`` command commits sequence by sequence.

The SQL is in ``sql/sequence_repair/``; :mod:`pyidsql.aio` runs the same wrappers on an async connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pyidsql import _db
from pyidsql._calls import Steps, rows, scalar, wrapper
from pyidsql._db import Connectable

Kind = Literal["serial", "identity", "default"]
Status = Literal["ok", "behind", "ahead", "empty", "near_limit"]
Action = Literal["fixed", "would_fix", "unchanged", "skipped_locked", "out_of_range"]


@dataclass(frozen=True)
class SequenceReportRow:
    """One row of ``idsql.sequence_report()``: a column that draws from a sequence."""

    table_name: str
    column_name: str
    sequence_name: str
    kind: Kind
    data_max: int | None
    last_value: int
    is_called: bool
    next_value: int | None
    status: Status


@dataclass(frozen=True)
class SequenceFix:
    """One row of ``idsql.fix_all_sequences_report()``: what the fix did for a column."""

    table_name: str
    column_name: str
    sequence_name: str
    kind: Kind
    data_max: int | None
    previous_next: int | None
    next_value: int | None
    status: Status | None
    action: Action


def _schemas(schemas: Sequence[str] | None) -> list[str] | None:
    return None if schemas is None else list(schemas)


@wrapper
def sequence_report(schemas: Sequence[str] | None = None) -> Steps[list[SequenceReportRow]]:
    """Return the drift of every sequence-fed column, in *schemas* or all (``idsql.sequence_report``)."""
    query = (
        "SELECT table_name::text, column_name::text, sequence_name::text, kind, data_max, last_value,"
        " is_called, next_value, status FROM idsql.sequence_report(%s)"
    )
    return [SequenceReportRow(*row) for row in (yield from rows(query, (_schemas(schemas),)))]


@wrapper
def fix_sequence(table: str, column: str, margin: int = 0, allow_backward: bool = False) -> Steps[int]:
    """Move the sequence of *table.column* past the data; return the next value (``idsql.fix_sequence``).

    *table* is a name as SQL would resolve it (``'"user"'``, ``'sales."Order Items"'``), passed as
    a value and cast to ``regclass`` by the server; *column* is the column's exact name.
    """
    query = "SELECT idsql.fix_sequence(%s::regclass, %s, %s, %s)"
    result: int = yield from scalar(query, (table, column, margin, allow_backward))
    return result


@wrapper
def fix_all_sequences(
    schemas: Sequence[str] | None = None, margin: int = 0, allow_backward: bool = False, dry_run: bool = False
) -> Steps[list[SequenceFix]]:
    """Fix every sequence behind its data, in the caller's transaction (``idsql.fix_all_sequences_report``)."""
    query = (
        "SELECT table_name::text, column_name::text, sequence_name::text, kind, data_max, previous_next,"
        " next_value, status, action"
        " FROM idsql.fix_all_sequences_report(%s, margin => %s, allow_backward => %s, dry_run => %s)"
    )
    return [SequenceFix(*row) for row in (yield from rows(query, (_schemas(schemas), margin, allow_backward, dry_run)))]


fix_all_sequences_report = fix_all_sequences
"""The same function under the name of the SQL function it calls."""


# --- one sequence at a time, for the pyidsql command's progress ---------------------------------


@dataclass(frozen=True)
class SequenceGroupFix:
    """What fixing one sequence (and every column it feeds) did, with its report lines."""

    label: str
    data_max: int | None
    previous_next: int | None
    status: Status | None
    fixed: int
    notice: str | None
    warning: str | None


def fix_sequences_one_by_one(
    conn: Connectable, schemas: Sequence[str] | None, margin: int, allow_backward: bool, dry_run: bool
) -> tuple[int, Iterator[SequenceGroupFix]]:
    """Return how many sequences there are, and an iterator that fixes them one by one.

    The same checks and fixes as ``CALL idsql.fix_all_sequences()``, in Python's hands: on an
    autocommit connection each sequence is fixed in a transaction of its own, so each table is
    locked only while its own sequence moves, and the caller can show progress between two.
    """
    _db.fetch_all(conn, "SELECT idsql._check_fix_arguments(%s, %s, %s)", (margin, allow_backward, dry_run))
    groups = _db.fetch_all(
        conn,
        "SELECT sequence_name::oid, tables::oid[], columns::text[], column_types::oid[], label"
        " FROM idsql._sequence_groups(%s)",
        (_schemas(schemas),),
    )
    query = (
        "SELECT data_max, previous_next, next_value, status, action, fixed, notice, warning"
        " FROM idsql._fix_sequence_group(%s::oid::regclass, %s::oid[]::regclass[], %s::name[],"
        " %s::oid[]::regtype[], %s, %s, %s, %s)"
    )

    def fixes() -> Iterator[SequenceGroupFix]:
        for seq, tables, columns, types, label in groups:
            params = (seq, tables, columns, types, label, margin, allow_backward, dry_run)
            row = _db.fetch_all(conn, query, params)[0]
            yield SequenceGroupFix(label, row[0], row[1], row[3], fixed=row[5], notice=row[6], warning=row[7])

    return len(groups), fixes()


def fix_summary(conn: Connectable, fixed: int, dry_run: bool) -> str:
    """Return the closing line of a fix, in the words of ``CALL idsql.fix_all_sequences()``."""
    result: str = _db.fetch_scalar(conn, "SELECT idsql._fix_summary(%s, %s)", (fixed, dry_run))
    return result
