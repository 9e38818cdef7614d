CREATE OR REPLACE FUNCTION idsql._state_version_bookkeeping(p_cfg idsql.state_version_table)
    RETURNS text[]
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    -- The bookkeeping columns a tracked table has, in this order: its version column, created_at,
    -- updated_at. A change to them alone is no change (the row trigger, changes_between), and a
    -- rollback leaves them to the triggers.
    SELECT array_remove(ARRAY[(p_cfg).version_column, (p_cfg).created_column, (p_cfg).updated_column], NULL)::text[];
END;

COMMENT ON FUNCTION idsql._state_version_bookkeeping(idsql.state_version_table) IS
'Internal: the bookkeeping columns of a tracked table (version, created_at, updated_at), those it has.';
