"""Async twins of the pyidsql wrappers, for a psycopg ``AsyncConnection``; ``await`` them.

Nothing here is written twice: each twin runs the steps of its sync wrapper (SQL, arguments,
result shaping) on the async connection, and carries its name, signature and docstring
(:mod:`pyidsql._calls`). A test checks that every sync wrapper has its twin here.
"""

from __future__ import annotations

from pyidsql import negotiation, prefixed_ids, privileges, sequence_repair, state_versions, table_ids
from pyidsql._calls import asynchronous, asynchronous_listener, asynchronous_method
from pyidsql._db import AsyncConnectable

# --- prefixed IDs
generate_id = asynchronous(prefixed_ids.generate_id)
bulk_generate_ids = asynchronous(prefixed_ids.bulk_generate_ids)
current_id = asynchronous(prefixed_ids.current_id)
reset_sequence = asynchronous(prefixed_ids.reset_sequence)
configure_prefix = asynchronous(prefixed_ids.configure_prefix)
sync_prefix = asynchronous(prefixed_ids.sync_prefix)
prefix_stats = asynchronous(prefixed_ids.prefix_stats)
id_health_check = asynchronous(prefixed_ids.id_health_check)
format_id = asynchronous(prefixed_ids.format_id)
parse_id = asynchronous(prefixed_ids.parse_id)
is_valid_id = asynchronous(prefixed_ids.is_valid_id)
increment_id = asynchronous(prefixed_ids.increment_id)
normalize_id = asynchronous(prefixed_ids.normalize_id)

# --- table IDs
initialize_table = asynchronous(table_ids.initialize_table)
initialize = asynchronous(table_ids.initialize)
next_id = asynchronous(table_ids.next_id)
insert_with_retry = asynchronous(table_ids.insert_with_retry)


class AsyncIDManager(table_ids._Manager):
    """Async twin of :class:`pyidsql.IDManager`, for a psycopg ``AsyncConnection``."""

    def __init__(self, conn: AsyncConnectable, initial_value: int = 1, retry_attempts: int = 3) -> None:
        self.conn = conn
        self.initial_value = initial_value
        self.retry_attempts = retry_attempts

    initialize = asynchronous_method(table_ids.IDManager.initialize)
    initialize_table = asynchronous_method(table_ids.IDManager.initialize_table)
    next_id = asynchronous_method(table_ids.IDManager.next_id)
    insert_with_retry = asynchronous_method(table_ids.IDManager.insert_with_retry)


# --- ID negotiation
set_id_strategy = asynchronous(negotiation.set_id_strategy)
new_temp_id = asynchronous(negotiation.new_temp_id)
is_temp_id = asynchronous(negotiation.is_temp_id)
resolve_id = asynchronous(negotiation.resolve_id)
replace_id_everywhere = asynchronous(negotiation.replace_id_everywhere)
plan_replace_id = asynchronous(negotiation.plan_replace_id)
assign_server_id = asynchronous(negotiation.assign_server_id)
negotiate_ids = asynchronous(negotiation.negotiate_ids)
enqueue_sync = asynchronous(negotiation.enqueue_sync)
claim_sync_batch = asynchronous(negotiation.claim_sync_batch)
complete_sync = asynchronous(negotiation.complete_sync)
fail_sync = asynchronous(negotiation.fail_sync)
enable_late_reference_resolution = asynchronous(negotiation.enable_late_reference_resolution)
disable_late_reference_resolution = asynchronous(negotiation.disable_late_reference_resolution)
listen_id_changes = asynchronous_listener(negotiation.listen_id_changes)

# --- state versions
enable_state_version = asynchronous(state_versions.enable_state_version)
disable_state_version = asynchronous(state_versions.disable_state_version)
row_history = asynchronous(state_versions.row_history)
children_as_of = asynchronous(state_versions.children_as_of)
children_as_of_time = asynchronous(state_versions.children_as_of_time)
changes_between = asynchronous(state_versions.changes_between)
rollback_to_version = asynchronous(state_versions.rollback_to_version)
prune_history = asynchronous(state_versions.prune_history)

# --- sequence repair
sequence_report = asynchronous(sequence_repair.sequence_report)
fix_sequence = asynchronous(sequence_repair.fix_sequence)
fix_all_sequences = asynchronous(sequence_repair.fix_all_sequences)
fix_all_sequences_report = fix_all_sequences
"""The same function under the name of the SQL function it calls."""

# --- privileges
grant_access = asynchronous(privileges.grant_access)
