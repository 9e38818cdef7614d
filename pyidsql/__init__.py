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
from pyidsql.table_ids import (
    IDManager,
    initialize,
    initialize_table,
    insert_with_retry,
    next_id,
)

__all__ = [
    "IDManager",
    "IdPrefixes",
    "IdsqlError",
    "ParsedId",
    "PrefixStats",
    "__version__",
    "bulk_generate_ids",
    "configure_prefix",
    "current_id",
    "errors",
    "format_id",
    "generate_id",
    "id_health_check",
    "increment_id",
    "initialize",
    "initialize_table",
    "insert_with_retry",
    "is_valid_id",
    "next_id",
    "normalize_id",
    "parse_id",
    "prefix_stats",
    "reset_sequence",
    "sync_prefix",
]
