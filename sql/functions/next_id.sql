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
 * One UPDATE of the counter row, which stays locked until the caller's
 * transaction ends: concurrent callers for one table queue, a rollback gives
 * the number back, and no ID is issued twice. Then max(id) (an index lookup)
 * moves the counter past any row inserted with an explicit ID since, so a
 * manual insert of 100 makes the next ID 101. Rows other transactions have not
 * committed yet are invisible to max(); insert_with_retry handles those.
 */
DECLARE
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
        UPDATE idsql.table_counter AS c
           SET last_value = c.last_value + 1,
               updated_at = now()
         WHERE c.table_name = next_id.tbl
        RETURNING c.id_column, c.last_value INTO v_column, v_next;
        EXIT WHEN FOUND;
        PERFORM idsql.initialize_table(next_id.tbl);
    END LOOP;

    EXECUTE format('SELECT max(%I) FROM %s', v_column, next_id.tbl) INTO v_max;
    IF v_max >= v_next THEN
        v_next := v_max + 1;
        UPDATE idsql.table_counter AS c
           SET last_value = v_next
         WHERE c.table_name = next_id.tbl;
    END IF;
    RETURN v_next;
END
$$;

COMMENT ON FUNCTION idsql.next_id(regclass) IS
'Return the next ID of a table, past every ID issued and every ID in the table; registers the table on first use.';
