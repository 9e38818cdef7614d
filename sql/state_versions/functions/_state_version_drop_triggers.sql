CREATE OR REPLACE FUNCTION idsql._state_version_drop_triggers(p_tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Drop the idsql_state_version_* triggers of a table, and nothing else.
 */
DECLARE
    v_name name;
BEGIN
    FOR v_name IN
        SELECT t.tgname FROM pg_trigger AS t
         WHERE t.tgrelid = p_tbl AND t.tgname LIKE 'idsql\_state\_version\_%' AND NOT t.tgisinternal
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_name, p_tbl);
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_drop_triggers(regclass) IS
'Internal: drop the idsql_state_version_* triggers of a table.';
