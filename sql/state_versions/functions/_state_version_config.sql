CREATE OR REPLACE FUNCTION idsql._state_version_config(p_tbl regclass, p_need_history boolean DEFAULT false)
    RETURNS idsql.state_version_table
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the configuration row of a tracked table, or raise ID302 when the
 * table was never enabled, and ID303 when history is needed but not kept.
 */
DECLARE
    v_cfg idsql.state_version_table;
BEGIN
    IF p_tbl IS NULL THEN
        RAISE EXCEPTION 'table is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a table name, for example ''entity''::regclass.';
    END IF;
    SELECT c.* INTO v_cfg FROM idsql.state_version_table AS c WHERE c.tbl = p_tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % is not tracked by state versions', p_tbl
            USING ERRCODE = 'ID302',  -- not_tracked
                  DETAIL = 'idsql.state_version_table has no row for it.',
                  HINT = format('Run SELECT idsql.enable_state_version(%L) first.', p_tbl::text);
    END IF;
    IF p_need_history AND NOT v_cfg.history THEN
        RAISE EXCEPTION 'table % keeps no history', p_tbl
            USING ERRCODE = 'ID303',  -- history_not_kept
                  DETAIL = 'It was enabled with history => false.',
                  HINT = format('Run SELECT idsql.enable_state_version(%L, ..., history => true); history starts then.',
                                p_tbl::text);
    END IF;
    RETURN v_cfg;
END
$$;

COMMENT ON FUNCTION idsql._state_version_config(regclass, boolean) IS
'Internal: the configuration of a tracked table; raises ID302 if it is not tracked, ID303 if history is needed and off.';
