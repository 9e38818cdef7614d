CREATE OR REPLACE FUNCTION idsql.children_as_of(tbl regclass, parent_key jsonb, parent_version bigint)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The rows of tbl under one parent as they were when the parent had this
 * version: per row, its last entry counted at that parent version or before,
 * unless that entry is a deletion or a move away. Rows come back as jsonb,
 * ordered by key, so a column added since reads as absent, not as an error.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(children_as_of.tbl, true);
    v_parent bigint := jsonb_hash_extended(children_as_of.parent_key, 0);
BEGIN
    IF v_cfg.parent IS NULL THEN
        RAISE EXCEPTION '% has no parent', children_as_of.tbl
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Read the children of a parent: pass the child table, the parent''s key and its version.';
    END IF;
    IF children_as_of.parent_key IS NULL OR children_as_of.parent_version IS NULL THEN
        RAISE EXCEPTION '% is NULL', CASE WHEN children_as_of.parent_key IS NULL THEN 'parent_key'
                                          ELSE 'parent_version' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the parent''s key as jsonb and a version number.';
    END IF;
    -- A skip scan: the distinct rows under the parent one index probe each, then each
    -- row's last entry at that version one probe each, whatever the length of history.
    -- Rows whose keys share a 64-bit hash under one parent would hide one another.
    RETURN QUERY
        WITH RECURSIVE k (key_hash) AS (
            (SELECT h.key_hash FROM idsql.row_version AS h
              WHERE h.tbl = children_as_of.tbl AND h.parent_hash = v_parent AND h.parent_key IS NOT NULL
              ORDER BY h.key_hash LIMIT 1)
            UNION ALL
            SELECT (SELECT h.key_hash FROM idsql.row_version AS h
                     WHERE h.tbl = children_as_of.tbl AND h.parent_hash = v_parent AND h.parent_key IS NOT NULL
                       AND h.key_hash > k.key_hash
                     ORDER BY h.key_hash LIMIT 1)
              FROM k WHERE k.key_hash IS NOT NULL
        )
        SELECT v.row_data
          FROM k
         CROSS JOIN LATERAL (
               SELECT h.key, h.operation, h.row_data FROM idsql.row_version AS h
                WHERE h.tbl = children_as_of.tbl AND h.parent_hash = v_parent AND h.parent_key IS NOT NULL
                  AND h.key_hash = k.key_hash AND h.parent_version <= children_as_of.parent_version
                  AND h.parent_key = children_as_of.parent_key
                ORDER BY h.parent_version DESC, h.id DESC
                LIMIT 1) AS v
         WHERE k.key_hash IS NOT NULL AND v.operation NOT IN ('DELETE', 'MOVE')
         ORDER BY v.key;
END
$$;

COMMENT ON FUNCTION idsql.children_as_of(regclass, jsonb, bigint) IS
'The rows of a table under one parent as they were when the parent had a given version (jsonb, by key).';
