CREATE OR REPLACE FUNCTION idsql._state_version_drop_function(fn name)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Drop the generated trigger function idsql.<fn>() if there is one. DROP
 * FUNCTION IF EXISTS would send a NOTICE for each one that is not there, and
 * enable_state_version and disable_state_version would pass it on to callers
 * who did nothing wrong.
 */
BEGIN
    IF to_regprocedure(format('idsql.%I()', _state_version_drop_function.fn)) IS NOT NULL THEN
        EXECUTE format('DROP FUNCTION idsql.%I()', _state_version_drop_function.fn);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._state_version_drop_function(name) IS
'Internal: drop a generated trigger function of idsql if there is one, without a NOTICE when there is none.';
