CREATE OR REPLACE FUNCTION idsql.initialize(tables regclass[] DEFAULT NULL)
    RETURNS TABLE (table_name regclass, next_id bigint)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Re-sync the counters of the given tables (registering those that are new,
 * with column id and initial value 1) or, with NULL, of every registered
 * table, with initialize_table and each table's own settings; return each
 * table with its next ID, in name order. With NULL, counters of tables that
 * have been dropped are deleted first, with their sequences (a NOTICE says
 * how many).
 */
DECLARE
    v_forgotten integer := 0;
    v_seq regclass;
    v_column name;
    v_initial bigint;
BEGIN
    IF initialize.tables IS NULL THEN
        FOR v_seq IN
            DELETE FROM idsql.table_counter AS c
             WHERE NOT EXISTS (SELECT FROM pg_class AS k WHERE k.oid = c.table_name)
            RETURNING c.seq
        LOOP
            IF EXISTS (SELECT FROM pg_class AS k WHERE k.oid = v_seq) THEN
                EXECUTE format('DROP SEQUENCE %s', v_seq);
            END IF;
            v_forgotten := v_forgotten + 1;
        END LOOP;
        IF v_forgotten > 0 THEN
            RAISE NOTICE 'forgot the counters of % dropped table(s)', v_forgotten;
        END IF;
    ELSIF array_position(initialize.tables, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'tables must not contain NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass table names, or NULL for every registered table.';
    END IF;
    FOR table_name IN
        SELECT t.tbl
          FROM (SELECT c.table_name AS tbl FROM idsql.table_counter AS c WHERE initialize.tables IS NULL
                UNION
                SELECT u.tbl FROM unnest(initialize.tables) AS u (tbl)) AS t
         ORDER BY t.tbl::text
    LOOP
        SELECT c.id_column, c.initial_value INTO v_column, v_initial
          FROM idsql.table_counter AS c
         WHERE c.table_name = initialize.table_name;
        next_id := idsql.initialize_table(initialize.table_name, coalesce(v_column, 'id'), coalesce(v_initial, 1));
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.initialize(regclass[]) IS
'Re-sync the counters of the given tables, or of every registered table; returns each table and its next ID.';
