CREATE OR REPLACE FUNCTION idsql._state_version_skip()
    RETURNS trigger
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Row trigger of a tracked table without a version column or timestamps, with
 * a parent or history, called only WHEN the new row image equals the old one
 * (NEW *= OLD, which compares values, not how they are stored; PostgreSQL's
 * suppress_redundant_updates_trigger compares stored bytes, so it let through
 * a large value set to the value it already had). The row is written
 * unchanged, so that the statement reports it (UPDATE n, RETURNING), and the
 * transaction is flagged: its statement triggers leave unchanged rows out of
 * the parents' counts and the history.
 */
BEGIN
    PERFORM idsql._state_version_noop(TG_RELID, NULL);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION idsql._state_version_skip() IS
'Internal: row trigger that flags a no-op UPDATE of a tracked table without a version column or timestamps.';
