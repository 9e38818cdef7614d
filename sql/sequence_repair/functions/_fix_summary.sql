CREATE OR REPLACE FUNCTION idsql._fix_summary(fixed integer, dry_run boolean)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The last line of a fix_all_sequences run, in the original runbook's words.
 */
    SELECT CASE WHEN _fix_summary.dry_run
                THEN format('Dry run: would fix %s sequence(s)', _fix_summary.fixed)
                ELSE format('Successfully fixed %s sequence(s)!', _fix_summary.fixed) END
$$;

COMMENT ON FUNCTION idsql._fix_summary(integer, boolean) IS
'Summary line of fix_all_sequences: Successfully fixed N sequence(s)!';
