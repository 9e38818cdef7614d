CREATE OR REPLACE FUNCTION idsql.disable_state_version(tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Stop tracking a table: drop pyidsql's triggers and the table's generated
 * trigger functions. The table's data, its version column and its history stay;
 * enable_state_version() picks up from there (history resumes; rows that
 * left their parent meanwhile are recorded as leaving, rows changed meanwhile
 * get no entry until their next change).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(disable_state_version.tbl);
    v_after name := idsql._state_version_function_name(disable_state_version.tbl, 'after');
BEGIN
    PERFORM idsql._state_version_drop_triggers(disable_state_version.tbl);
    PERFORM idsql._state_version_drop_function(v_after);
    IF v_cfg.row_function IS NOT NULL THEN
        PERFORM idsql._state_version_drop_function(v_cfg.row_function);
    END IF;
    UPDATE idsql.state_version_table AS c
       SET enabled = false, row_function = NULL
     WHERE c.tbl = disable_state_version.tbl;
    PERFORM idsql._state_version_triggers_above(disable_state_version.tbl);
END
$$;

COMMENT ON FUNCTION idsql.disable_state_version(regclass) IS
'Stop tracking a table: remove pyidsql''s triggers; keep its data, version column and history.';
