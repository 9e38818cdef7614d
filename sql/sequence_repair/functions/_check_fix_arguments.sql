CREATE OR REPLACE FUNCTION idsql._check_fix_arguments(margin bigint, allow_backward boolean, dry_run boolean)
    RETURNS void
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Reject arguments a fix cannot honour, before anything is locked. A fix
 * reads the max after locking; under REPEATABLE READ or SERIALIZABLE the
 * snapshot predates the lock, so rows committed meanwhile would be missed and
 * the fix could leave the sequence behind. A dry run changes nothing, so any
 * isolation level will do.
 */
BEGIN
    IF _check_fix_arguments.margin IS NULL OR _check_fix_arguments.margin < 0 THEN
        RAISE EXCEPTION 'invalid margin "%"', coalesce(_check_fix_arguments.margin::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The margin is how many values to leave unused past the data.',
                  HINT = 'Pass 0 (the default) or a positive number.';
    END IF;
    IF _check_fix_arguments.allow_backward IS NULL OR _check_fix_arguments.dry_run IS NULL THEN
        RAISE EXCEPTION 'allow_backward and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass true or false, or leave them out for the default (false).';
    END IF;
    IF NOT _check_fix_arguments.dry_run
       AND current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'sequence repair needs READ COMMITTED isolation'
            USING ERRCODE = 'ID203',  -- needs_read_committed
                  DETAIL = format('The transaction runs at %s; its snapshot predates the table locks.',
                                  upper(current_setting('transaction_isolation'))),
                  HINT = 'Run the fix in a READ COMMITTED transaction (the default), or in autocommit mode.';
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._check_fix_arguments(bigint, boolean, boolean) IS
'Validate margin, allow_backward and dry_run of a sequence fix, and require READ COMMITTED unless dry_run.';
