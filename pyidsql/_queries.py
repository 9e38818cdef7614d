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

# --- table IDs

INITIALIZE_TABLE: LiteralString = (
    "SELECT idsql.initialize_table(%s::regclass, id_column => %s, initial_value => %s)"
)
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
