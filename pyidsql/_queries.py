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

# --- sequence repair
SEQUENCE_REPORT: LiteralString = (
    "SELECT table_name::text, column_name::text, sequence_name::text, kind, data_max, last_value,"
    " is_called, next_value, status FROM idsql.sequence_report(%s)"
)
FIX_SEQUENCE: LiteralString = "SELECT idsql.fix_sequence(%s::regclass, %s, %s, %s)"
FIX_ALL_SEQUENCES_REPORT: LiteralString = (
    "SELECT table_name::text, column_name::text, sequence_name::text, kind, data_max, previous_next,"
    " next_value, status, action"
    " FROM idsql.fix_all_sequences_report(%s, margin => %s, allow_backward => %s, dry_run => %s)"
)
# The CLI fixes sequence by sequence, one transaction each, to show progress as it goes.
CHECK_FIX_ARGUMENTS: LiteralString = "SELECT idsql._check_fix_arguments(%s, %s, %s)"
SEQUENCE_GROUPS: LiteralString = (
    "SELECT sequence_name::oid, tables::oid[], columns::text[], column_types::oid[], label"
    " FROM idsql._sequence_groups(%s)"
)
FIX_SEQUENCE_GROUP: LiteralString = (
    "SELECT data_max, previous_next, next_value, status, action, fixed, notice, warning"
    " FROM idsql._fix_sequence_group(%s::oid::regclass, %s::oid[]::regclass[], %s::name[],"
    " %s::oid[]::regtype[], %s, %s, %s, %s)"
)
FIX_SUMMARY: LiteralString = "SELECT idsql._fix_summary(%s, %s)"
