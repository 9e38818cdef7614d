CREATE OR REPLACE FUNCTION idsql.disable_late_reference_resolution(tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Remove the trigger idsql_negotiation_resolve from a table (idempotent).
 */
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS idsql_negotiation_resolve ON %s', disable_late_reference_resolution.tbl);
END
$$;

COMMENT ON FUNCTION idsql.disable_late_reference_resolution(regclass) IS
'Remove the trigger idsql_negotiation_resolve from a table.';
