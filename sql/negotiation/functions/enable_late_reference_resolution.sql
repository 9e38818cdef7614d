CREATE OR REPLACE FUNCTION idsql.enable_late_reference_resolution(tbl regclass, mode text DEFAULT 'resolve')
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Put the trigger idsql_negotiation_resolve on a referencing table, or change
 * its mode (idempotent): resolve rewrites a replaced temporary ID in a
 * foreign-key column to its permanent ID, so an offline child that arrives
 * after its parent was negotiated is stored right; reject refuses the row
 * with a foreign-key error whose DETAIL names the mapping. Without the
 * trigger, PostgreSQL's own foreign-key error stands.
 */
BEGIN
    IF enable_late_reference_resolution.tbl IS NULL THEN
        RAISE EXCEPTION 'tbl is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the referencing table, for example enable_late_reference_resolution(''task'').';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = enable_late_reference_resolution.tbl) THEN
        -- An OID cast to regclass ('0', '-', '12345') is not checked: format() would splice it as is.
        RAISE EXCEPTION 'relation with OID % does not exist', enable_late_reference_resolution.tbl::oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the name of an existing table.';
    END IF;
    IF enable_late_reference_resolution.mode IS NULL
       OR enable_late_reference_resolution.mode NOT IN ('resolve', 'reject') THEN
        RAISE EXCEPTION 'invalid late-reference mode "%"',
                        left(coalesce(enable_late_reference_resolution.mode, 'NULL'), 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The mode is resolve or reject.',
                  HINT = 'Use resolve (rewrite to the permanent ID) or reject (refuse, naming the mapping).';
    END IF;
    EXECUTE format('CREATE OR REPLACE TRIGGER idsql_negotiation_resolve BEFORE INSERT OR UPDATE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION idsql.tg_negotiation_resolve(%L)',
                   enable_late_reference_resolution.tbl, enable_late_reference_resolution.mode);
END
$$;

COMMENT ON FUNCTION idsql.enable_late_reference_resolution(regclass, text) IS
'Add the trigger idsql_negotiation_resolve: replaced temporary IDs in foreign keys are resolved (or refused, naming the mapping).';
