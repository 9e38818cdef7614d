-- Insert data (a JSON object of column values, without the ID) into tbl with the table's next ID
-- and return the inserted row as jsonb, defaults applied:
-- insert_with_retry('feedback', '{"rating": 5}') -> {"id": 8, "rating": 5, ...}.
--
-- An ID found taken (a row inserted with an explicit ID that next_id() could not see yet) is
-- skipped: a later value of the table's sequence is tried, past max(id), without a
-- subtransaction. Losing the race for the ID just taken does not use up one of the
-- retry_attempts (up to 64 such races); a conflict on another ID (a trigger that changes the ID)
-- does. Concurrent callers never wait for each other; a rollback leaves a hole. When every
-- attempt fails, raises ID101 naming the table and the attempts. Unknown columns, the ID column,
-- generated columns and values of the wrong type are errors, never silently dropped.
--
-- One SQL expression with a standard body, which the planner inlines into the caller's
-- statement, so a call runs one PL/pgSQL function, not two (see _format_ordinal: bound when
-- created, no search_path applies, no SET).
CREATE OR REPLACE FUNCTION idsql.insert_with_retry(tbl regclass, data jsonb, retry_attempts integer DEFAULT 3)
    RETURNS jsonb
    LANGUAGE sql
    VOLATILE
RETURN coalesce(idsql._insert_with_retry(tbl, data, retry_attempts), idsql._retries_exhausted(tbl, retry_attempts));

COMMENT ON FUNCTION idsql.insert_with_retry(regclass, jsonb, integer) IS
'Insert a row (jsonb, without its ID) with the next ID, skipping IDs found taken, and return it with its defaults.';
