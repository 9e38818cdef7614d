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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pyidsql._calls import Steps, rows, scalar, wrapper

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
