CREATE OR REPLACE FUNCTION idsql._state_version_parent_map(p_parent regclass, p_keys jsonb[])
    RETURNS jsonb
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Map each parent key (as jsonb text) to {"v": parent version, "rk": root
 * key, "rv": root version}: what the history rows of its children record.
 * One walk up the chain per distinct parent, not per child row.
 */
DECLARE
    v_map jsonb := '{}'::jsonb;
    v_key jsonb;
    v_info record;
BEGIN
    FOREACH v_key IN ARRAY coalesce(p_keys, '{}'::jsonb[]) LOOP
        SELECT * INTO v_info FROM idsql._state_version_root(p_parent, v_key);
        v_map := v_map || jsonb_build_object(v_key::text, jsonb_build_object(
            'v', v_info.version, 'rk', v_info.root_key, 'rv', v_info.root_version));
    END LOOP;
    RETURN v_map;
END
$$;

COMMENT ON FUNCTION idsql._state_version_parent_map(regclass, jsonb[]) IS
'Internal: for each parent key, the parent''s version and its root''s key and version, as one jsonb map.';
