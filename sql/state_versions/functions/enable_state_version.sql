CREATE OR REPLACE FUNCTION idsql.enable_state_version(
    tbl regclass,
    version_column name DEFAULT 'state_version',
    parent regclass DEFAULT NULL,
    parent_fk name DEFAULT NULL,
    history boolean DEFAULT false
)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Track changes of a table (idempotent: run it again after a schema change,
 * or to change the settings): record the configuration in
 * idsql.state_version_table, then install the triggers and the functions
 * generated for the table (_state_version_triggers: a row trigger for the
 * version, the optimistic lock, no-op UPDATEs and timestamps; statement-level
 * AFTER triggers with transition tables when there is a parent to count for or
 * history to keep). The tables above it that have a parent get theirs anew:
 * they record the moves of descendants that keep history.
 * The parent must be tracked already and versioned; the foreign key to it is
 * found in the catalog (parent_fk names it when there are several) and must
 * reference the parent's primary key. With history, rows present now are
 * recorded once as a BASELINE so that as-of reads see them; enabled again
 * after disable_state_version, the rows that left their parent meanwhile are
 * recorded as leaving (idsql._state_version_record_departures).
 */
DECLARE
    v_kind "char";
    v_citus text;
    v_type regtype;
    v_keys name[];
    v_parent idsql.state_version_table;
    v_fk_name name;
    v_fk_cols name[];
    v_pk_cols name[];
    v_fks bigint;
    v_up regclass;
    v_created name;
    v_updated name;
    v_old name;
    v_was_off boolean;
    v_fn name := idsql._state_version_function_name(enable_state_version.tbl, 'row');
    v_map jsonb;
    v_parents jsonb[];
BEGIN
    IF enable_state_version.tbl IS NULL OR enable_state_version.history IS NULL THEN
        RAISE EXCEPTION '% is NULL', CASE WHEN enable_state_version.tbl IS NULL THEN 'tbl' ELSE 'history' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a table, for example enable_state_version(''entity'', parent => ''session'').';
    END IF;
    SELECT c.relkind INTO v_kind FROM pg_class AS c WHERE c.oid = enable_state_version.tbl;
    IF v_kind IS DISTINCT FROM 'r' OR enable_state_version.tbl::oid IN (
        'idsql.row_version'::regclass, 'idsql.state_version_table'::regclass) THEN
        RAISE EXCEPTION '% is not a table state versions can track', enable_state_version.tbl
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'State versions need an ordinary table (not a view, partitioned table or idsql''s own).',
                  HINT = 'Enable it on an ordinary table.';
    END IF;
    v_citus := (idsql._citus_table(enable_state_version.tbl)).kind;
    IF v_citus IS NOT NULL THEN
        RAISE EXCEPTION 'state versions cannot track the % table %', v_citus, enable_state_version.tbl
            USING ERRCODE = 'ID308',  -- sharded_table
                  DETAIL = 'Citus keeps its rows in shards and runs each statement on them apart: the triggers '
                           'would fire there, without the configuration and history, and would see a statement '
                           'half-way.',
                  HINT = 'Track tables Citus does not manage (a table with a foreign key to a reference table '
                         'becomes a Citus local table), and distribute the tables that hold the bulk.';
    END IF;
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', enable_state_version.tbl);

    IF enable_state_version.version_column IS NOT NULL THEN
        SELECT a.atttypid::regtype INTO v_type FROM pg_attribute AS a
         WHERE a.attrelid = enable_state_version.tbl AND a.attname = enable_state_version.version_column
           AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of % does not exist', enable_state_version.version_column,
                            enable_state_version.tbl
                USING ERRCODE = 'undefined_column',
                      HINT = format('Add it: ALTER TABLE %s ADD %I bigint NOT NULL DEFAULT 1; or pass '
                                    'version_column => NULL for a table whose changes only count for its parent.',
                                    enable_state_version.tbl, enable_state_version.version_column);
        END IF;
        IF v_type NOT IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype) THEN
            RAISE EXCEPTION 'column "%" of % is %, not an integer', enable_state_version.version_column,
                            enable_state_version.tbl, v_type
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'Use a bigint column for the version.';
        END IF;
    END IF;

    SELECT array_agg(a.attname ORDER BY k.ord) INTO v_keys
      FROM pg_index AS i
     CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
      JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = enable_state_version.tbl AND i.indisprimary;
    IF v_keys IS NULL THEN
        RAISE EXCEPTION '% has no primary key', enable_state_version.tbl
            USING ERRCODE = 'ID306',  -- no_primary_key
                  DETAIL = 'History, rollback and parent counting name rows by their primary key.',
                  HINT = 'Add a primary key to the table, then enable it again.';
    END IF;

    IF enable_state_version.parent IS NOT NULL THEN
        v_parent := idsql._state_version_config(enable_state_version.parent);
        IF v_parent.version_column IS NULL OR NOT v_parent.enabled THEN
            RAISE EXCEPTION 'parent % has no state version', enable_state_version.parent
                USING ERRCODE = 'ID302',  -- not_tracked
                      DETAIL = 'A parent counts the changes of its children in its own version column.',
                      HINT = 'Enable the parent with a version column first.';
        END IF;
        v_up := enable_state_version.parent;
        WHILE v_up IS NOT NULL LOOP
            IF v_up = enable_state_version.tbl THEN
                RAISE EXCEPTION 'parent % would make a cycle', enable_state_version.parent
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('%s is already above %s.', enable_state_version.tbl,
                                          enable_state_version.parent),
                          HINT = 'State versions count changes up a tree: a table cannot be its own ancestor.';
            END IF;
            SELECT c.parent INTO v_up FROM idsql.state_version_table AS c WHERE c.tbl = v_up;
        END LOOP;
        SELECT count(*) INTO v_fks FROM pg_constraint AS c
         WHERE c.conrelid = enable_state_version.tbl AND c.confrelid = enable_state_version.parent
           AND c.contype = 'f' AND (enable_state_version.parent_fk IS NULL OR c.conname = enable_state_version.parent_fk);
        IF v_fks = 0 THEN
            RAISE EXCEPTION '%', format('no foreign key from %s to %s%s', enable_state_version.tbl,
                                        enable_state_version.parent,
                                        coalesce(format(' named "%s"', enable_state_version.parent_fk), ''))
                USING ERRCODE = 'ID304',  -- parent_fk_not_found
                      DETAIL = 'A child''s changes count for the parent row its foreign key points at.',
                      HINT = 'Add the foreign key to the parent''s primary key first.';
        ELSIF v_fks > 1 THEN
            RAISE EXCEPTION '% foreign keys from % to %', v_fks, enable_state_version.tbl, enable_state_version.parent
                USING ERRCODE = 'ID305',  -- ambiguous_parent_fk
                      DETAIL = 'A child''s changes count for one parent row: the one a single foreign key points at.',
                      HINT = 'Name the one to follow with parent_fk => ''constraint_name''.';
        END IF;
        SELECT c.conname,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k (n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS fk,
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k (n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS pk
          INTO v_fk_name, v_fk_cols, v_pk_cols
          FROM pg_constraint AS c
         WHERE c.conrelid = enable_state_version.tbl AND c.confrelid = enable_state_version.parent
           AND c.contype = 'f' AND (enable_state_version.parent_fk IS NULL OR c.conname = enable_state_version.parent_fk);
        IF ARRAY(SELECT unnest(v_pk_cols) ORDER BY 1) <> ARRAY(SELECT unnest(v_parent.key_columns) ORDER BY 1) THEN
            RAISE EXCEPTION 'foreign key "%" does not reference the primary key of %', v_fk_name,
                            enable_state_version.parent
                USING ERRCODE = 'ID304',  -- parent_fk_not_found
                      DETAIL = format('It references (%s); the primary key is (%s).',
                                      array_to_string(v_pk_cols, ', '), array_to_string(v_parent.key_columns, ', ')),
                      HINT = 'Point the foreign key at the parent''s primary key.';
        END IF;
    END IF;

    SELECT (max(a.attname::text) FILTER (WHERE a.attname = 'created_at'))::name,
           (max(a.attname::text) FILTER (WHERE a.attname = 'updated_at'))::name
      INTO v_created, v_updated
      FROM pg_attribute AS a
     WHERE a.attrelid = enable_state_version.tbl AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname IN ('created_at', 'updated_at')
       AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype);

    SELECT c.row_function, NOT c.enabled INTO v_old, v_was_off
      FROM idsql.state_version_table AS c WHERE c.tbl = enable_state_version.tbl;
    INSERT INTO idsql.state_version_table AS c (
        tbl, version_column, parent, parent_fk, fk_columns, parent_columns, key_columns,
        created_column, updated_column, history, enabled, row_function, enabled_at
    ) VALUES (
        enable_state_version.tbl, enable_state_version.version_column, enable_state_version.parent,
        v_fk_name, coalesce(v_fk_cols, '{}'), coalesce(v_pk_cols, '{}'), v_keys, v_created, v_updated,
        enable_state_version.history, true,
        CASE WHEN enable_state_version.version_column IS NOT NULL OR v_created IS NOT NULL
                  OR v_updated IS NOT NULL THEN v_fn END,
        now()
    )
    ON CONFLICT ON CONSTRAINT state_version_table_pkey DO UPDATE
        SET version_column = excluded.version_column, parent = excluded.parent, parent_fk = excluded.parent_fk,
            fk_columns = excluded.fk_columns, parent_columns = excluded.parent_columns,
            key_columns = excluded.key_columns, created_column = excluded.created_column,
            updated_column = excluded.updated_column, history = excluded.history, enabled = true,
            row_function = excluded.row_function, enabled_at = excluded.enabled_at;

    PERFORM idsql._state_version_triggers(enable_state_version.tbl, v_old);
    PERFORM idsql._state_version_triggers_above(enable_state_version.tbl);

    IF enable_state_version.history THEN
        IF enable_state_version.parent IS NOT NULL THEN
            IF v_was_off THEN
                PERFORM idsql._state_version_record_departures(enable_state_version.tbl);
            END IF;
            EXECUTE format('SELECT array_agg(DISTINCT %s) FROM %s AS r WHERE pg_catalog.num_nulls(%s) = 0',
                           idsql._state_version_json(v_pk_cols, v_fk_cols, 'r'), enable_state_version.tbl,
                           idsql._state_version_columns(v_fk_cols, 'r'))
               INTO v_parents;
            v_map := idsql._state_version_parent_map(enable_state_version.parent, v_parents);
        END IF;
        EXECUTE idsql._state_version_history(
            enable_state_version.tbl, idsql._state_version_root_table(enable_state_version.tbl),
            format('%s AS r', enable_state_version.tbl),
            -- No entry yet, recorded with a parent or as a root (see idsql.row_history).
            format('NOT EXISTS (SELECT FROM idsql.row_version AS h WHERE h.key_hash = pg_catalog.jsonb_hash_extended(%2$s, 0)'
                   ' AND h.root <> h.tbl AND h.tbl = %1$s::pg_catalog.oid::pg_catalog.regclass AND h.key = %2$s)'
                   ' AND NOT EXISTS (SELECT FROM idsql.row_version AS h WHERE h.root_hash = pg_catalog.jsonb_hash_extended(%2$s, 0)'
                   ' AND h.tbl = %1$s::pg_catalog.oid::pg_catalog.regclass AND h.root = h.tbl AND h.key = %2$s)',
                   enable_state_version.tbl::oid, idsql._state_version_json(v_keys, v_keys, 'r')),
            'BASELINE')
            USING v_map;
    END IF;
END
$$;

COMMENT ON FUNCTION idsql.enable_state_version(regclass, name, regclass, name, boolean) IS
'Track changes of a table: version bump once per transaction, parent counting up to the root, optional history; idempotent.';
