CREATE OR REPLACE FUNCTION idsql.initialize_table(
    tbl regclass,
    id_column name DEFAULT 'id',
    initial_value bigint DEFAULT 1
)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Register a table for next_id() and insert_with_retry(), or re-sync it, and
 * return its next ID: max(row_count + 1, max(id_column) + 1, initial_value),
 * as the original client-side manager computed it, but never below an ID
 * already issued. Idempotent; a second call may change the id_column or
 * initial_value and never moves the counter back.
 *
 * Registering creates the table's sequence in schema idsql; a leftover of
 * the same name (from a counter row deleted by hand) is taken over, moved
 * forward only. Calls for one table are serialised by a transaction-level
 * advisory lock, so two first uses at once create one sequence; next_id()
 * never takes that lock.
 *
 * The id column must be smallint, integer or bigint with a unique,
 * non-partial, non-deferrable index on that column alone: insert_with_retry
 * detects a taken ID through ON CONFLICT on that index, and max(id) stays an
 * index lookup. count(*) reads the whole table, so this is a set-up step, not
 * a hot path.
 */
DECLARE
    v_relkind "char";
    v_attnum smallint;
    v_type regtype;
    v_count bigint;
    v_max bigint;
    v_next bigint;
    v_seq regclass;
    v_seq_name text;
BEGIN
    IF initialize_table.tbl IS NULL OR initialize_table.id_column IS NULL
       OR initialize_table.initial_value IS NULL THEN
        RAISE EXCEPTION 'tbl, id_column and initial_value must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table, e.g. initialize_table(''chat_history''); id_column and initial_value have defaults.';
    END IF;
    IF initialize_table.initial_value < 1 THEN
        RAISE EXCEPTION 'invalid initial value %', initialize_table.initial_value
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Table IDs start at 1 or above.',
                  HINT = 'Pass an initial_value of 1 or more.';
    END IF;
    SELECT c.relkind INTO v_relkind FROM pg_class AS c WHERE c.oid = initialize_table.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', initialize_table.tbl::oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the name of an existing table.';
    END IF;
    IF v_relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', initialize_table.tbl
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'Table IDs are issued for ordinary and partitioned tables only.',
                  HINT = 'Pass the table the rows are inserted into.';
    END IF;

    SELECT a.attnum, a.atttypid::regtype INTO v_attnum, v_type
      FROM pg_attribute AS a
     WHERE a.attrelid = initialize_table.tbl AND a.attname = initialize_table.id_column
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', initialize_table.id_column, initialize_table.tbl
            USING ERRCODE = 'undefined_column',
                  HINT = 'Pass the name of the integer column that holds the IDs as id_column.';
    END IF;
    IF v_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        RAISE EXCEPTION 'column "%" of relation "%" is not an integer column', initialize_table.id_column,
            initialize_table.tbl
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('The column is of type %s.', v_type),
                  HINT = 'Table IDs are stored in smallint, integer or bigint columns.';
    END IF;
    IF NOT EXISTS (
        SELECT FROM pg_index AS i
         WHERE i.indrelid = initialize_table.tbl AND i.indisunique AND i.indimmediate AND i.indisvalid
           AND i.indnkeyatts = 1 AND i.indkey[0] = v_attnum
           AND i.indpred IS NULL AND i.indexprs IS NULL
    ) THEN
        RAISE EXCEPTION 'column "%" of relation "%" has no unique index', initialize_table.id_column,
            initialize_table.tbl
            USING ERRCODE = 'ID102',  -- id_column_not_unique
                  DETAIL = 'Table IDs need a unique, non-partial, non-deferrable index on the ID column alone.',
                  HINT = format('Make it the primary key, or run CREATE UNIQUE INDEX ON %s (%I).',
                                initialize_table.tbl, initialize_table.id_column);
    END IF;

    PERFORM pg_advisory_xact_lock(hashtext('idsql.table_counter'), initialize_table.tbl::oid::integer);
    EXECUTE format('SELECT count(*), max(%I) FROM %s', initialize_table.id_column, initialize_table.tbl)
       INTO v_count, v_max;
    v_next := greatest(v_count + 1, coalesce(v_max, 0) + 1, initialize_table.initial_value);

    UPDATE idsql.table_counter AS c
       SET id_column = initialize_table.id_column,
           initial_value = initialize_table.initial_value,
           updated_at = now()
     WHERE c.table_name = initialize_table.tbl
    RETURNING c.seq INTO v_seq;
    IF FOUND THEN
        PERFORM idsql._advance_sequence(v_seq, v_next - 1);
        RETURN coalesce(pg_sequence_last_value(v_seq), 0) + 1;
    END IF;

    -- The name carries the OID, which no live relation shares; a sequence of that name that
    -- another counter uses (a dump restored with new OIDs) gets a suffix.
    v_seq_name := format('table_%s_seq', initialize_table.tbl::oid);
    FOR i IN 2..1000 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM idsql.table_counter AS c
                               WHERE c.seq = to_regclass(format('idsql.%I', v_seq_name)));
        v_seq_name := format('table_%s_%s_seq', initialize_table.tbl::oid, i);
    END LOOP;
    v_seq := to_regclass(format('idsql.%I', v_seq_name));
    IF v_seq IS NULL THEN
        EXECUTE format('CREATE SEQUENCE idsql.%I AS bigint MINVALUE 1 START 1 NO CYCLE', v_seq_name);
        v_seq := to_regclass(format('idsql.%I', v_seq_name));
        -- Invisible to other sessions until commit: nobody can be taking values from it yet.
        PERFORM setval(v_seq, greatest(v_next - 1, 1), v_next > 1);
        PERFORM idsql._share_sequence(v_seq);
    ELSE
        PERFORM idsql._advance_sequence(v_seq, v_next - 1);
    END IF;
    EXECUTE format('COMMENT ON SEQUENCE %s IS %L', v_seq,
                   format('IDs of table %s (see idsql.table_counter).', initialize_table.tbl));
    -- ON CONFLICT: under REPEATABLE READ a row another session committed after our snapshot
    -- makes this a serialization failure (40001) instead of a unique violation.
    INSERT INTO idsql.table_counter (table_name, id_column, initial_value, seq)
    VALUES (initialize_table.tbl, initialize_table.id_column, initialize_table.initial_value, v_seq)
    ON CONFLICT (table_name) DO NOTHING;
    RETURN coalesce(pg_sequence_last_value(v_seq), 0) + 1;
END
$$;

COMMENT ON FUNCTION idsql.initialize_table(regclass, name, bigint) IS
'Register or re-sync a table: its next ID becomes max(row_count + 1, max_id + 1, initial_value), never lower than before; returns it.';
