CREATE OR REPLACE FUNCTION idsql._raise_stale_version(
    p_tbl regclass, p_column name, p_current bigint, p_given bigint
)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise the optimistic-lock error of the row trigger: the UPDATE set the
 * version column to something else than the row's version, so the writer
 * read the row before another transaction changed it. Its own code, not
 * 40001: a generic retry loop would repeat the stale write blindly.
 */
BEGIN
    RAISE EXCEPTION 'stale % in update of %', p_column, p_tbl
        USING ERRCODE = 'ID301',  -- stale_version
              DETAIL = format('The row is at %s %s; the update set it to %s.',
                              p_column, p_current, coalesce(p_given::text, 'NULL')),
              HINT = format('Read the row again and redo the change, or leave %s out of the UPDATE.', p_column);
END
$$;

COMMENT ON FUNCTION idsql._raise_stale_version(regclass, name, bigint, bigint) IS
'Internal: raise ID301 stale_version for an UPDATE that set the version column to another value.';
