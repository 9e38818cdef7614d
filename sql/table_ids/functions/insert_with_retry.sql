CREATE OR REPLACE FUNCTION idsql.insert_with_retry(tbl regclass, data jsonb, retry_attempts integer DEFAULT 3)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Insert data (a JSON object of column values, without the ID) into tbl with
 * the table's next ID and return the inserted row as jsonb, defaults applied:
 * insert_with_retry('feedback', '{"rating": 5}') -> {"id": 8, "rating": 5, ...}.
 *
 * An ID found taken (a row inserted with an explicit ID that next_id() could
 * not see yet) is skipped: a later value of the table's sequence is tried,
 * past max(id), without a subtransaction. Losing the race for the ID just
 * taken does not use up one of the retry_attempts (up to 64 such races); a
 * conflict on another ID (a trigger that changes the ID) does. Concurrent
 * callers never wait for each other; a rollback leaves a hole. When every
 * attempt fails, raises ID101 naming the table and the attempts.
 * Unknown columns, the ID column, generated columns and values of the wrong
 * type are errors, never silently dropped.
 */
DECLARE
    v_row jsonb;
    v_last bigint;
BEGIN
    v_row := idsql._insert_with_retry(insert_with_retry.tbl, insert_with_retry.data,
                                      insert_with_retry.retry_attempts);
    IF v_row IS NULL THEN
        SELECT pg_sequence_last_value(c.seq) INTO v_last
          FROM idsql.table_counter AS c
         WHERE c.table_name = insert_with_retry.tbl;
        RAISE EXCEPTION 'could not insert into "%" after % attempt%', insert_with_retry.tbl,
            insert_with_retry.retry_attempts, CASE WHEN insert_with_retry.retry_attempts = 1 THEN '' ELSE 's' END
            USING ERRCODE = 'ID101',  -- retries_exhausted
                  DETAIL = format('The row''s ID was taken on every attempt; the table''s sequence is at %s.', v_last),
                  HINT = 'Look for a trigger that changes the ID of inserted rows, or for many writers of explicit IDs; then retry.';
    END IF;
    RETURN v_row;
END
$$;

COMMENT ON FUNCTION idsql.insert_with_retry(regclass, jsonb, integer) IS
'Insert a row (jsonb, without its ID) with the next ID, skipping IDs found taken, and return it with its defaults.';
