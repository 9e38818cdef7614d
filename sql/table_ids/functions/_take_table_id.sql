CREATE OR REPLACE FUNCTION idsql._take_table_id(seq regclass, max_id bigint)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Take the next value of a table counter's sequence that is above max_id,
 * the largest ID the caller saw in the table: nextval(), and when a row
 * inserted with an explicit ID has overtaken the sequence, move it past that
 * row first (_advance_sequence), so a manual insert of 100 makes the next ID
 * 101. Called from the statements next_id() and insert_with_retry() prepare,
 * with max_id read by the same statement.
 */
DECLARE
    v_next bigint;
BEGIN
    v_next := nextval(_take_table_id.seq);
    IF _take_table_id.max_id >= v_next THEN
        PERFORM idsql._advance_sequence(_take_table_id.seq, _take_table_id.max_id);
        v_next := nextval(_take_table_id.seq);
    END IF;
    RETURN v_next;
END
$$;

COMMENT ON FUNCTION idsql._take_table_id(regclass, bigint) IS
'Internal: the next value of a table counter''s sequence above max_id, moving the sequence past it when needed.';
