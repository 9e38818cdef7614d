CREATE OR REPLACE FUNCTION idsql._state_version_carry(p_parent regclass, p_moves jsonb)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Rows of p_parent moved to a parent under another root row; their
 * descendants went with them without changing. p_moves lists the moved rows:
 * [{"k": key, "v": its version now, "from": {"rk": root key, "rv": root
 * version} or null, "to": the same or null}], "from" and "to" as the parent
 * map of the statement trigger gives them (null: no parent, so no root).
 *
 * Each enabled table below p_parent that keeps history records its rows under
 * those parents twice: a MOVE under the root they left, with no parent key
 * (they did not leave their parent, and children_as_of reads by parent key),
 * then an UPDATE under the root they joined, with their parent's version. So
 * every root's history holds exactly the rows that were under it, which is
 * what changes_between and rollback_to_version read. Then the same one level
 * down, for tables with or without history. Called by the statement trigger
 * of a table with descendants that keep history, only when a row changed root.
 */
DECLARE
    v_child idsql.state_version_table;
    v_root regclass;
    v_rows text;
    v_record text;
    v_next jsonb;
BEGIN
    IF p_moves IS NULL OR jsonb_array_length(p_moves) = 0 THEN
        RETURN;
    END IF;
    FOR v_child IN
        SELECT c.* FROM idsql.state_version_table AS c
         WHERE c.parent = p_parent AND c.enabled
         ORDER BY c.tbl::oid
    LOOP
        -- The child rows under the moved parents, with what each parent carries down to them.
        v_rows := format(
            'SELECT %1$s AS key, %2$s AS pk, pg_catalog.to_jsonb(t) AS row_data, %3$s AS v,'
            ' (m.value ->> ''v'')::bigint AS pv, m.value -> ''from'' AS f, m.value -> ''to'' AS o'
            ' FROM pg_catalog.jsonb_array_elements($1) AS m'
            ' CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::%7$s, m.value -> ''k'') AS p'
            ' JOIN %4$s AS t ON (%5$s) = (%6$s)',
            idsql._state_version_json(v_child.key_columns, v_child.key_columns, 't'),
            idsql._state_version_json(v_child.parent_columns, v_child.fk_columns, 't'),
            CASE WHEN v_child.version_column IS NULL THEN 'NULL::bigint'
                 ELSE format('t.%I', v_child.version_column) END,
            v_child.tbl,
            idsql._state_version_columns(v_child.fk_columns, 't'),
            idsql._state_version_columns(v_child.parent_columns, 'p'),
            p_parent);
        -- One statement reads those rows once: it records them, if the table keeps history, and
        -- hands them on as the moves of the level below.
        v_record := '';
        IF v_child.history THEN
            v_root := idsql._state_version_root_table(v_child.tbl);
            -- One INSERT: its first arm (the departures) is written before its second (the arrivals).
            v_record := ', w AS (INSERT INTO idsql.row_version (tbl, key, state_version, parent_key, parent_version,'
                ' root, root_key, root_version, operation, row_data, key_hash, parent_hash, root_hash)'
                ' SELECT $2, s.key, s.v, NULL, NULL, $3, s.f -> ''rk'', (s.f ->> ''rv'')::bigint, ''MOVE'','
                ' s.row_data, pg_catalog.jsonb_hash_extended(s.key, 0), NULL,'
                ' pg_catalog.jsonb_hash_extended(s.f -> ''rk'', 0)'
                ' FROM s WHERE pg_catalog.jsonb_typeof(s.f) = ''object'''
                ' UNION ALL'
                ' SELECT $2, s.key, s.v, s.pk, s.pv, $3, s.o -> ''rk'', (s.o ->> ''rv'')::bigint, ''UPDATE'','
                ' s.row_data, pg_catalog.jsonb_hash_extended(s.key, 0), pg_catalog.jsonb_hash_extended(s.pk, 0),'
                ' pg_catalog.jsonb_hash_extended(s.o -> ''rk'', 0)'
                ' FROM s WHERE pg_catalog.jsonb_typeof(s.o) = ''object'')';
        END IF;
        EXECUTE format('WITH s AS MATERIALIZED (%s)%s'
                       ' SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(''k'', s.key, ''v'', s.v,'
                       ' ''from'', s.f, ''to'', s.o)) FROM s', v_rows, v_record)
           INTO v_next
          USING p_moves, v_child.tbl, v_root;
        PERFORM idsql._state_version_carry(v_child.tbl, v_next);
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_carry(regclass, jsonb) IS
'Internal: record in the history of each descendant table that its rows changed root with a moved parent.';
