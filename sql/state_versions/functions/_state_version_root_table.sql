CREATE OR REPLACE FUNCTION idsql._state_version_root_table(p_tbl regclass)
    RETURNS regclass
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the root table above a tracked table (itself for a root).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
BEGIN
    WHILE v_cfg.parent IS NOT NULL LOOP
        v_cfg := idsql._state_version_config(v_cfg.parent);
    END LOOP;
    RETURN v_cfg.tbl;
END
$$;

COMMENT ON FUNCTION idsql._state_version_root_table(regclass) IS
'Internal: the root table above a tracked table, itself for a root.';
