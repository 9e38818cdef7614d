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
from pyidsql.state_versions import (
    Change,
    RowVersion,
    changes_between,
    children_as_of,
    disable_state_version,
    enable_state_version,
    prune_history,
    rollback_to_version,
    row_history,
)

__all__ = [
    "Change",
    "IdPrefixes",
    "IdsqlError",
    "ParsedId",
    "PrefixStats",
    "RowVersion",
    "__version__",
    "bulk_generate_ids",
    "changes_between",
    "children_as_of",
    "configure_prefix",
    "current_id",
    "disable_state_version",
    "enable_state_version",
    "errors",
    "format_id",
    "generate_id",
    "id_health_check",
    "increment_id",
    "is_valid_id",
    "normalize_id",
    "parse_id",
    "prefix_stats",
    "prune_history",
    "reset_sequence",
    "rollback_to_version",
    "row_history",
    "sync_prefix",
]
