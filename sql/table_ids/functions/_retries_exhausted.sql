CREATE OR REPLACE FUNCTION idsql._retries_exhausted(tbl regclass, retry_attempts integer)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise ID101 for insert_with_retry: every one of retry_attempts attempts
 * found its ID taken. Declared to return jsonb so that insert_with_retry can
 * call it where the row would be; it never returns.
 */
DECLARE
    v_last bigint;
BEGIN
    SELECT pg_sequence_last_value(c.seq) INTO v_last
      FROM idsql.table_counter AS c
     WHERE c.table_name = _retries_exhausted.tbl;
    RAISE EXCEPTION 'could not insert into "%" after % attempt%', _retries_exhausted.tbl,
        _retries_exhausted.retry_attempts, CASE WHEN _retries_exhausted.retry_attempts = 1 THEN '' ELSE 's' END
        USING ERRCODE = 'ID101',  -- retries_exhausted
              DETAIL = format('The row''s ID was taken on every attempt; the table''s sequence is at %s.', v_last),
              HINT = 'Look for a trigger that changes the ID of inserted rows, or for many writers of explicit IDs; then retry.';
END
$$;

COMMENT ON FUNCTION idsql._retries_exhausted(regclass, integer) IS
'Internal: raise ID101 (retries exhausted) for insert_with_retry.';
