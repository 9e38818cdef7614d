"""pyidsql: ID logic kept inside PostgreSQL, wrapped for psycopg 3 and SQLAlchemy 2.

Every function takes the connection first (psycopg ``Connection``, SQLAlchemy
``Connection`` or ``Session``), runs in the caller's transaction and never
commits. Async twins live in :mod:`pyidsql.aio`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from pyidsql import errors
from pyidsql.errors import IdsqlError
from pyidsql.prefixed import (
    IdPrefixes,
    ParsedId,
    PrefixStats,
    bulk_generate_ids,
    configure_prefix,
    current_id,
    format_id,
    generate_id,
    id_health_check,
    increment_id,
    is_valid_id,
    normalize_id,
    parse_id,
    prefix_stats,
    reset_sequence,
    sync_prefix,
)
from pyidsql.sequences import (
    SequenceFix,
    SequenceReportRow,
    fix_all_sequences,
    fix_all_sequences_report,
    fix_sequence,
    sequence_report,
)

__all__ = [
    "IdPrefixes",
    "IdsqlError",
    "ParsedId",
    "PrefixStats",
    "SequenceFix",
    "SequenceReportRow",
    "__version__",
    "bulk_generate_ids",
    "configure_prefix",
    "current_id",
    "errors",
    "fix_all_sequences",
    "fix_all_sequences_report",
    "fix_sequence",
    "format_id",
    "generate_id",
    "id_health_check",
    "increment_id",
    "is_valid_id",
    "normalize_id",
    "parse_id",
    "prefix_stats",
    "reset_sequence",
    "sequence_report",
    "sync_prefix",
]
