CREATE OR REPLACE FUNCTION idsql._state_version_refresh()
    RETURNS integer
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Generate the triggers and trigger functions of every enabled table anew
 * (_state_version_triggers), and return how many tables that was. The install
 * script runs it, so that an upgrade reaches the tables enabled under an
 * older version: their generated functions are written against the idsql
 * tables of that version. Tables dropped since are skipped.
 */
DECLARE
    v_count integer := 0;
    v_tbl regclass;
BEGIN
    FOR v_tbl IN
        SELECT c.tbl FROM idsql.state_version_table AS c
         WHERE c.enabled AND EXISTS (SELECT FROM pg_class AS k WHERE k.oid = c.tbl)
         ORDER BY c.tbl::oid
    LOOP
        PERFORM idsql._state_version_triggers(v_tbl);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION idsql._state_version_refresh() IS
'Internal: generate the triggers of every enabled table anew (run by the install script after an upgrade).';
