"""Every SQL statement the wrappers send, one constant per idsql function.

The sync and async wrappers both read these, so the two can never drift apart.
"""

from __future__ import annotations

from typing import LiteralString

GENERATE_ID: LiteralString = "SELECT idsql.generate_id(%s)"
BULK_GENERATE_IDS: LiteralString = "SELECT idsql.bulk_generate_ids(%s, %s)"
CURRENT_ID: LiteralString = "SELECT idsql.current_id(%s)"
RESET_SEQUENCE: LiteralString = "SELECT idsql.reset_sequence(%s, %s)"
CONFIGURE_PREFIX: LiteralString = "SELECT idsql.configure_prefix(%s, mode => %s, digits => %s, min_letters => %s)"
SYNC_PREFIX: LiteralString = "SELECT idsql.sync_prefix(%s, %s::regclass, %s)"
PREFIX_STATS: LiteralString = (
    "SELECT prefix, mode, last_id, issued, capacity_left_in_width, created_at, updated_at FROM idsql.prefix_stats()"
)
ID_HEALTH_CHECK: LiteralString = "SELECT idsql.id_health_check()"
FORMAT_ID: LiteralString = "SELECT idsql.format_id(%s, %s, digits => %s, min_letters => %s)"
PARSE_ID: LiteralString = (
    "SELECT prefix, letters, number, ordinal FROM idsql.parse_id(%s, digits => %s, min_letters => %s)"
)
IS_VALID_ID: LiteralString = "SELECT idsql.is_valid_id(%s, %s, digits => %s, min_letters => %s)"
INCREMENT_ID: LiteralString = "SELECT idsql.increment_id(%s, digits => %s, min_letters => %s)"
NORMALIZE_ID: LiteralString = "SELECT idsql.normalize_id(%s, digits => %s, min_letters => %s)"

# --- table IDs

INITIALIZE_TABLE: LiteralString = "SELECT idsql.initialize_table(%s::regclass, id_column => %s, initial_value => %s)"
INITIALIZE: LiteralString = "SELECT table_name::text, next_id FROM idsql.initialize(%s::regclass[])"
NEXT_ID: LiteralString = "SELECT idsql.next_id(%s::regclass)"
INSERT_WITH_RETRY: LiteralString = "SELECT idsql.insert_with_retry(%s::regclass, %s::jsonb, %s)"
# IDManager: the same insert, NULL instead of an error when the attempts run out.
TRY_INSERT_WITH_RETRY: LiteralString = "SELECT idsql._insert_with_retry(%s::regclass, %s::jsonb, %s)"
# IDManager with an initial_value: register a table on first use with it, not with 1.
REGISTER_TABLE: LiteralString = (
    "SELECT idsql.initialize_table(s.t, initial_value => %s) FROM (SELECT %s::regclass AS t) AS s"
    " WHERE NOT EXISTS (SELECT FROM idsql.table_counter AS c WHERE c.table_name = s.t)"
)


# --- ID negotiation
SET_ID_STRATEGY: LiteralString = "SELECT idsql.set_id_strategy(%s::regclass, %s, %s)"
NEW_TEMP_ID: LiteralString = "SELECT idsql.new_temp_id(%s::regclass)"
IS_TEMP_ID: LiteralString = "SELECT idsql.is_temp_id(%s::regclass, %s)"
RESOLVE_ID: LiteralString = "SELECT idsql.resolve_id(%s::regclass, %s)"
REPLACE_ID_EVERYWHERE: LiteralString = "SELECT idsql.replace_id_everywhere(%s::regclass, %s, %s)"
PLAN_REPLACE_ID: LiteralString = (
    "SELECT table_name::text, constraint_name::text, columns::text[], rows, strategy, problem"
    " FROM idsql.plan_replace_id(%s::regclass, %s)"
)
ASSIGN_SERVER_ID: LiteralString = "SELECT idsql.assign_server_id(%s::regclass, %s)"
# Table names are resolved here, in the caller's search_path, and sent as oids.
NEGOTIATE_IDS: LiteralString = (
    "SELECT idsql.negotiate_ids(coalesce((SELECT jsonb_agg(e.value || jsonb_build_object("
    "'table', (e.value ->> 'table')::regclass::oid::bigint) ORDER BY e.ord)"
    " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e (value, ord)), '[]'))"
)
_SYNC_ITEM_COLUMNS: LiteralString = (
    "id, model_type::text, model_id, temporary_client_id, operation, payload, id_negotiation_status,"
    " attempts, last_error, created_at, updated_at, claimed_at"
)
ENQUEUE_SYNC: LiteralString = "SELECT idsql.enqueue_sync(%s::regclass, %s, %s, %s::jsonb, %s)"
CLAIM_SYNC_BATCH: LiteralString = (
    "SELECT " + _SYNC_ITEM_COLUMNS + " FROM idsql.claim_sync_batch(%s, max_attempts => %s)"
)
COMPLETE_SYNC: LiteralString = "SELECT " + _SYNC_ITEM_COLUMNS + " FROM idsql.complete_sync(%s, %s)"
FAIL_SYNC: LiteralString = "SELECT " + _SYNC_ITEM_COLUMNS + " FROM idsql.fail_sync(%s, %s, %s)"
ENABLE_LATE_REFERENCE_RESOLUTION: LiteralString = "SELECT idsql.enable_late_reference_resolution(%s::regclass, %s)"
DISABLE_LATE_REFERENCE_RESOLUTION: LiteralString = "SELECT idsql.disable_late_reference_resolution(%s::regclass)"
BACKEND_PID: LiteralString = "SELECT pg_catalog.pg_backend_pid()"
LISTEN_ID_CHANGED: LiteralString = "LISTEN idsql_id_changed"
_ID_CHANGE_COLUMNS: LiteralString = (
    "SELECT l.id, l.touched ->> 'table', l.old_id, l.new_id, l.touched -> 'touched', l.created_at"
    " FROM idsql.id_change_log AS l"
)
ID_CHANGES_SINCE: LiteralString = _ID_CHANGE_COLUMNS + " WHERE l.id > %s ORDER BY l.id"
ID_CHANGES_OF_BATCH: LiteralString = (
    _ID_CHANGE_COLUMNS + " WHERE l.id BETWEEN %s AND %s AND l.txid = %s::xid8 ORDER BY l.id"
)
ID_CHANGE: LiteralString = _ID_CHANGE_COLUMNS + " WHERE l.id = %s"


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


# --- privileges
GRANT_ACCESS: LiteralString = "SELECT idsql.grant_access(pg_catalog.quote_ident(%s)::regrole, admin => %s)"
