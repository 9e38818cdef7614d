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
    IF disable_late_reference_resolution.tbl IS NULL THEN
        RAISE EXCEPTION 'tbl is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the referencing table, for example disable_late_reference_resolution(''task'').';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = disable_late_reference_resolution.tbl) THEN
        -- An OID cast to regclass ('0', '-', '12345') is not checked: format() would splice it as is.
        RAISE EXCEPTION 'relation with OID % does not exist', disable_late_reference_resolution.tbl::oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the name of an existing table.';
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS idsql_negotiation_resolve ON %s', disable_late_reference_resolution.tbl);
END
$$;

COMMENT ON FUNCTION idsql.disable_late_reference_resolution(regclass) IS
'Remove the trigger idsql_negotiation_resolve from a table.';
