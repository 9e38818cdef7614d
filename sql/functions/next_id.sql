CREATE OR REPLACE FUNCTION idsql.next_id(tbl regclass)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the next ID of a table; a table used for the first time is
 * registered with initialize_table(tbl) (column id, initial value 1).
 *
 * nextval() on the table's sequence: concurrent callers never wait for each
 * other, no ID is issued twice (a sequence is not rolled back, and it is
 * WAL-logged ahead of the values it hands out, so a crash cannot reissue
 * one), and a rollback leaves a hole, as in any serial column. Then max(id) (an index lookup) moves the sequence past any row
 * inserted with an explicit ID since, forward only (_advance_sequence), so a
 * manual insert of 100 makes the next ID 101. Rows other transactions have not
 * committed yet are invisible to max(); insert_with_retry handles those.
 */
DECLARE
    v_seq regclass;
    v_column name;
    v_next bigint;
    v_max bigint;
BEGIN
    IF next_id.tbl IS NULL THEN
        RAISE EXCEPTION 'tbl must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table, e.g. next_id(''chat_history'').';
    END IF;
    LOOP
        SELECT c.seq, c.id_column INTO v_seq, v_column
          FROM idsql.table_counter AS c
         WHERE c.table_name = next_id.tbl;
        EXIT WHEN FOUND;
        PERFORM idsql.initialize_table(next_id.tbl);
    END LOOP;

    v_next := nextval(v_seq);
    EXECUTE format('SELECT max(%I) FROM %s', v_column, next_id.tbl) INTO v_max;
    IF v_max >= v_next THEN
        PERFORM idsql._advance_sequence(v_seq, v_max);
        v_next := nextval(v_seq);
    END IF;
    RETURN v_next;
END
$$;

COMMENT ON FUNCTION idsql.next_id(regclass) IS
'Return the next ID of a table from its sequence, past every ID in the table; never waits; registers the table on first use.';
