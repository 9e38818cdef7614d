CREATE OR REPLACE FUNCTION idsql._state_version_parent_map(p_parent regclass, p_keys jsonb[])
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Map each parent key (as jsonb text) to {"v": parent version, "rk": root
 * key, "rv": root version}: what the history rows of its children record.
 * One walk up the chain per distinct parent, not per child row.
 *
 * A parent that is gone (children deleted by ON DELETE CASCADE run after their
 * parent's row is deleted) has no chain to walk. Its root row is then the one
 * its last history entry was under (last by its version: ids follow each
 * other only within one session), or else the one the last entry of one of
 * its children was under (last by the parent's version). That root row counts
 * the change here, as it will once the parent's own trigger runs (once per
 * transaction), so that the children's DELETE entries carry the version that
 * removed them. "v" stays null: the parent has no version left to count in.
 */
DECLARE
    v_map jsonb := '{}'::jsonb;
    v_key jsonb;
    v_info record;
    v_root regclass;
    v_rk jsonb;
BEGIN
    FOREACH v_key IN ARRAY coalesce(p_keys, '{}'::jsonb[]) LOOP
        SELECT * INTO v_info FROM idsql._state_version_root(p_parent, v_key);
        v_rk := v_info.root_key;
        IF v_info.version IS NULL AND v_rk IS NULL THEN
            v_root := idsql._state_version_root_table(p_parent);
            SELECT h.root_key INTO v_rk
              FROM idsql.row_version AS h
             WHERE h.key_hash = jsonb_hash_extended(v_key, 0) AND h.root <> h.tbl
               AND h.tbl = p_parent AND h.key = v_key AND jsonb_typeof(h.root_key) = 'object'
             ORDER BY h.state_version DESC, h.id DESC
             LIMIT 1;
            IF v_rk IS NULL THEN
                SELECT h.root_key INTO v_rk
                  FROM idsql.state_version_table AS c
                  JOIN idsql.row_version AS h
                    ON h.tbl = c.tbl AND h.parent_hash = jsonb_hash_extended(v_key, 0) AND h.parent_key = v_key
                 WHERE c.parent = p_parent AND jsonb_typeof(h.root_key) = 'object'
                 ORDER BY h.parent_version DESC NULLS LAST, h.id DESC
                 LIMIT 1;
            END IF;
            IF v_rk IS NOT NULL THEN
                PERFORM idsql._state_version_touch(v_root, ARRAY[v_rk]);
                SELECT r.root_version INTO v_info.root_version FROM idsql._state_version_root(v_root, v_rk) AS r;
            END IF;
        END IF;
        v_map := v_map || jsonb_build_object(v_key::text, jsonb_build_object(
            'v', v_info.version, 'rk', v_rk, 'rv', v_info.root_version));
    END LOOP;
    RETURN v_map;
END
$$;

COMMENT ON FUNCTION idsql._state_version_parent_map(regclass, jsonb[]) IS
'Internal: for each parent key, the parent''s version and its root''s key and version, as one jsonb map.';
