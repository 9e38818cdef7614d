"""Sequence repair: one wrapper per ``idsql`` function, same names.

After a restore, an import or inserts with explicit IDs, a serial or identity sequence falls
behind its table and the next insert fails with a duplicate key. These wrappers report the drift
and move sequences past the data. They run in the caller's transaction and never commit;
:func:`fix_all_sequences` is the exception only in name: it calls
``idsql.fix_all_sequences_report`` (the function), not the committing procedure, so the caller's
``commit()`` decides. The ``pyidsql fix-sequences`` command commits sequence by sequence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pyidsql import _db
from pyidsql import _queries as Q
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


def sequence_report(conn: Connectable, schemas: Sequence[str] | None = None) -> list[SequenceReportRow]:
    """Return the drift of every sequence-fed column, in *schemas* or all (``idsql.sequence_report``)."""
    return [SequenceReportRow(*row) for row in _db.fetch_all(conn, Q.SEQUENCE_REPORT, (_schemas(schemas),))]


def fix_sequence(conn: Connectable, table: str, column: str, margin: int = 0, allow_backward: bool = False) -> int:
    """Move the sequence of *table.column* past the data; return the next value (``idsql.fix_sequence``).

    *table* is a name as SQL would resolve it (``'"user"'``, ``'sales."Order Items"'``), passed as
    a value and cast to ``regclass`` by the server; *column* is the column's exact name.
    """
    result: int = _db.fetch_scalar(conn, Q.FIX_SEQUENCE, (table, column, margin, allow_backward))
    return result


def fix_all_sequences(
    conn: Connectable,
    schemas: Sequence[str] | None = None,
    margin: int = 0,
    allow_backward: bool = False,
    dry_run: bool = False,
) -> list[SequenceFix]:
    """Fix every sequence behind its data, in the caller's transaction (``idsql.fix_all_sequences_report``)."""
    params = (_schemas(schemas), margin, allow_backward, dry_run)
    return [SequenceFix(*row) for row in _db.fetch_all(conn, Q.FIX_ALL_SEQUENCES_REPORT, params)]


fix_all_sequences_report = fix_all_sequences
"""The same function under the name of the SQL function it calls."""


@dataclass(frozen=True)
class _GroupFix:
    """What fixing one sequence did, with its report lines (for the CLI's progress)."""

    label: str
    data_max: int | None
    previous_next: int | None
    status: Status | None
    fixed: int
    notice: str | None
    warning: str | None


def _fix_one_at_a_time(
    conn: Connectable,
    schemas: Sequence[str] | None,
    margin: int,
    allow_backward: bool,
    dry_run: bool,
) -> tuple[int, Iterator[_GroupFix]]:
    """Return how many sequences there are, and an iterator that fixes them one by one.

    On an autocommit connection each sequence is fixed in a transaction of its own, as the
    procedure does outside a transaction block: each table is locked only while its own
    sequence moves.
    """
    _db.fetch_all(conn, Q.CHECK_FIX_ARGUMENTS, (margin, allow_backward, dry_run))
    groups = _db.fetch_all(conn, Q.SEQUENCE_GROUPS, (_schemas(schemas),))

    def fixes() -> Iterator[_GroupFix]:
        for seq, tables, columns, types, label in groups:
            params = (seq, tables, columns, types, label, margin, allow_backward, dry_run)
            row = _db.fetch_all(conn, Q.FIX_SEQUENCE_GROUP, params)[0]
            yield _GroupFix(label, row[0], row[1], row[3], fixed=row[5], notice=row[6], warning=row[7])

    return len(groups), fixes()


def _fix_summary(conn: Connectable, fixed: int, dry_run: bool) -> str:
    result: str = _db.fetch_scalar(conn, Q.FIX_SUMMARY, (fixed, dry_run))
    return result
