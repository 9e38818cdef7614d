"""pyidsql: ID logic kept inside PostgreSQL, wrapped for psycopg 3 and SQLAlchemy 2.

Every function takes the connection first (psycopg ``Connection``, SQLAlchemy
``Connection`` or ``Session``), runs in the caller's transaction and never
commits. Async twins live in :mod:`pyidsql.aio`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from pyidsql import errors
from pyidsql.errors import IdsqlError
from pyidsql.negotiation import (
    IdChanged,
    PlanStep,
    SyncItem,
    assign_server_id,
    claim_sync_batch,
    complete_sync,
    disable_late_reference_resolution,
    enable_late_reference_resolution,
    enqueue_sync,
    fail_sync,
    is_temp_id,
    listen_id_changes,
    negotiate_ids,
    new_temp_id,
    plan_replace_id,
    replace_id_everywhere,
    resolve_id,
    set_id_strategy,
)
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
    "IdChanged",
    "IdPrefixes",
    "IdsqlError",
    "ParsedId",
    "PlanStep",
    "PrefixStats",
    "SyncItem",
    "__version__",
    "assign_server_id",
    "bulk_generate_ids",
    "claim_sync_batch",
    "complete_sync",
    "configure_prefix",
    "current_id",
    "disable_late_reference_resolution",
    "enable_late_reference_resolution",
    "enqueue_sync",
    "errors",
    "fail_sync",
    "format_id",
    "generate_id",
    "id_health_check",
    "increment_id",
    "initialize",
    "initialize_table",
    "insert_with_retry",
    "is_temp_id",
    "is_valid_id",
    "listen_id_changes",
    "negotiate_ids",
    "new_temp_id",
    "next_id",
    "normalize_id",
    "parse_id",
    "plan_replace_id",
    "prefix_stats",
    "replace_id_everywhere",
    "reset_sequence",
    "resolve_id",
    "set_id_strategy",
    "sync_prefix",
]
