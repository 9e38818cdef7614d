CREATE OR REPLACE FUNCTION idsql._state_version_skip()
    RETURNS trigger
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Row trigger that drops the UPDATE of its row. The no-op trigger of a
 * tracked table without a version column or timestamps calls it only WHEN
 * the new row image equals the old one (NEW *= OLD, which compares values,
 * not how they are stored). PostgreSQL's suppress_redundant_updates_trigger
 * compares stored bytes, so it let through a large value set to the value it
 * already had (stored compressed or out of line before, plain in the new row),
 * and the parent counted a change that was not one.
 */
BEGIN
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION idsql._state_version_skip() IS
'Internal: row trigger that drops a no-op UPDATE of a tracked table without a version column or timestamps.';
