CREATE OR REPLACE FUNCTION idsql._state_version_record_departures(p_tbl regclass)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * When a table with history and a parent is enabled again after
 * disable_state_version: record the rows that left their parent while its
 * triggers were off. A row whose last entry has it under a parent, and which
 * is no longer there, gets the entry its triggers would have written: DELETE
 * when the row is gone, MOVE when it is under another parent or none. The
 * change counts for those parents (their version moves once) and the entries
 * carry that version, so reads at every earlier version still list the row,
 * and reads from now on do not; children_as_of, which looks up the rows under
 * a parent now and those recorded as leaving, then agrees with the history.
 * Rows changed or added meanwhile get their entry at their next change, as
 * before. Returns the number of entries written.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_gone bigint[];
    v_moved bigint[];
    v_parents jsonb[];
    v_map jsonb;
    v_written bigint;
BEGIN
    -- Each row's last entry under a parent, against the table's rows now (one scan of each).
    EXECUTE format(
        'WITH live AS (SELECT %1$s AS key, %2$s AS pk FROM %3$s AS r),'
        ' last AS (SELECT DISTINCT ON (h.key) h.id, h.key, h.parent_key, h.operation FROM idsql.row_version AS h'
        '           WHERE h.tbl = $1 AND h.parent_key IS NOT NULL ORDER BY h.key, h.id DESC),'
        ' gone AS (SELECT l.id, l.parent_key, EXISTS (SELECT FROM live WHERE live.key = l.key) AS moved'
        '            FROM last AS l'
        '           WHERE l.operation NOT IN (''DELETE'', ''MOVE'')'
        '             AND NOT EXISTS (SELECT FROM live WHERE live.key = l.key AND live.pk = l.parent_key))'
        ' SELECT pg_catalog.array_agg(g.id), pg_catalog.array_agg(g.id) FILTER (WHERE g.moved),'
        '        pg_catalog.array_agg(DISTINCT g.parent_key)'
        '   FROM gone AS g',
        idsql._state_version_json(v_cfg.key_columns, v_cfg.key_columns, 'r'),
        idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'r'),
        p_tbl)
       INTO v_gone, v_moved, v_parents
      USING p_tbl;
    IF v_gone IS NULL THEN
        RETURN 0::bigint;
    END IF;
    PERFORM idsql._state_version_touch(v_cfg.parent, v_parents);
    v_map := idsql._state_version_parent_map(v_cfg.parent, v_parents);
    INSERT INTO idsql.row_version (tbl, key, state_version, parent_key, parent_version, root, root_key, root_version,
                                   operation, row_data, key_hash, parent_hash, root_hash)
    SELECT h.tbl, h.key, h.state_version, h.parent_key, (m.i ->> 'v')::bigint, h.root, m.i -> 'rk',
           (m.i ->> 'rv')::bigint, CASE WHEN h.id = ANY (v_moved) THEN 'MOVE' ELSE 'DELETE' END, h.row_data,
           h.key_hash, h.parent_hash, jsonb_hash_extended(m.i -> 'rk', 0)
      FROM idsql.row_version AS h
     CROSS JOIN LATERAL (SELECT v_map -> h.parent_key::text AS i) AS m
     WHERE h.id = ANY (v_gone) AND jsonb_typeof(m.i -> 'rk') = 'object'
     ORDER BY h.id;
    GET DIAGNOSTICS v_written = ROW_COUNT;
    RETURN v_written;
END
$$;

COMMENT ON FUNCTION idsql._state_version_record_departures(regclass) IS
'Internal: on enabling a table again, record the rows that left their parent while its triggers were off.';
