"""Every SQL statement the wrappers send, one constant per idsql function.

The sync and async wrappers both read these, so the two can never drift apart.
"""

from __future__ import annotations

from typing import LiteralString

GENERATE_ID: LiteralString = "SELECT idsql.generate_id(%s)"
BULK_GENERATE_IDS: LiteralString = "SELECT idsql.bulk_generate_ids(%s, %s)"
CURRENT_ID: LiteralString = "SELECT idsql.current_id(%s)"
RESET_SEQUENCE: LiteralString = "SELECT idsql.reset_sequence(%s, %s)"
CONFIGURE_PREFIX: LiteralString = (
    "SELECT idsql.configure_prefix(%s, mode => %s, digits => %s, min_letters => %s)"
)
SYNC_PREFIX: LiteralString = "SELECT idsql.sync_prefix(%s, %s::regclass, %s)"
PREFIX_STATS: LiteralString = (
    "SELECT prefix, mode, last_id, issued, capacity_left_in_width, created_at, updated_at"
    " FROM idsql.prefix_stats()"
)
ID_HEALTH_CHECK: LiteralString = "SELECT idsql.id_health_check()"
FORMAT_ID: LiteralString = "SELECT idsql.format_id(%s, %s, digits => %s, min_letters => %s)"
PARSE_ID: LiteralString = (
    "SELECT prefix, letters, number, ordinal FROM idsql.parse_id(%s, digits => %s, min_letters => %s)"
)
IS_VALID_ID: LiteralString = (
    "SELECT idsql.is_valid_id(%s, %s, digits => %s, min_letters => %s)"
)
INCREMENT_ID: LiteralString = "SELECT idsql.increment_id(%s, digits => %s, min_letters => %s)"
NORMALIZE_ID: LiteralString = "SELECT idsql.normalize_id(%s, digits => %s, min_letters => %s)"

# --- state versions
ENABLE_STATE_VERSION: LiteralString = (
    "SELECT idsql.enable_state_version(%s::regclass, version_column => %s, parent => %s::regclass,"
    " parent_fk => %s, history => %s)"
)
DISABLE_STATE_VERSION: LiteralString = "SELECT idsql.disable_state_version(%s::regclass)"
ROW_HISTORY: LiteralString = (
    "SELECT state_version, root_version, operation, row_data, changed_at"
    " FROM idsql.row_history(%s::regclass, %s::jsonb)"
)
CHILDREN_AS_OF: LiteralString = "SELECT idsql.children_as_of(%s::regclass, %s::jsonb, %s)"
CHANGES_BETWEEN: LiteralString = (
    "SELECT table_name::text, key, change, old_data, new_data, changed_fields"
    " FROM idsql.changes_between(%s::regclass, %s::jsonb, %s, %s)"
)
ROLLBACK_TO_VERSION: LiteralString = "SELECT idsql.rollback_to_version(%s::regclass, %s::jsonb, %s)"
PRUNE_HISTORY: LiteralString = "SELECT idsql.prune_history(%s::regclass, keep_versions => %s)"
