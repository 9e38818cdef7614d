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
 * one), and a rollback leaves a hole, as in any serial column. A row at or
 * above the value (an index lookup, max(id) from the value up) moves the
 * sequence past every row inserted with an explicit ID since, forward only
 * (_take_table_id), so a manual insert of 100 makes the next ID 101. Rows
 * other transactions have not committed yet are invisible to max();
 * insert_with_retry handles those.
 *
 * The query is prepared once per session and table (a statement named
 * idsql_next_<md5>, see insert_with_retry), so a call plans nothing.
 */
DECLARE
    v_seq regclass;
    v_column name;
    v_stmt text;
    v_next bigint;
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

    v_stmt := 'idsql_next_' || md5(jsonb_build_array(next_id.tbl::oid, next_id.tbl::text, v_column, v_seq::text)::text);
    IF NOT EXISTS (SELECT FROM pg_prepared_statements AS p WHERE p.name = v_stmt) THEN
        -- citus.version exists where Citus is loaded: there any table may be distributed at any
        -- time, even after this session prepared the statement, which Citus then cannot run.
        IF current_setting('citus.version', true) IS NULL THEN
            -- The value first, then the largest ID at or above it: the index scan reads the few
            -- entries above the bound instead of the table's last index page. A NULL (the usual
            -- case) means no row has overtaken the sequence and the value stands.
            EXECUTE format('PREPARE %I AS SELECT CASE WHEN m.id IS NULL THEN n.v ELSE idsql._take_table_id(%L, m.id) END'
                           ' FROM (SELECT nextval(%L) AS v) AS n,'
                           ' LATERAL (SELECT max(%I) AS id FROM %s WHERE %I >= n.v) AS m',
                           v_stmt, v_seq, v_seq, v_column, next_id.tbl, v_column);
        ELSE
            -- Citus cannot push a lateral subquery over a distributed table down to the shards:
            -- the unbounded max(id) there, one query of every shard.
            EXECUTE format('PREPARE %I AS SELECT idsql._take_table_id(%L, (SELECT max(%I) FROM %s))',
                           v_stmt, v_seq, v_column, next_id.tbl);
        END IF;
    END IF;
    EXECUTE format('EXECUTE %I', v_stmt) INTO v_next;
    RETURN v_next;
END
$$;

COMMENT ON FUNCTION idsql.next_id(regclass) IS
'Return the next ID of a table from its sequence, past every ID in the table; never waits; registers the table on first use.';
