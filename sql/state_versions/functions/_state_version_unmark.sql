CREATE OR REPLACE FUNCTION idsql._state_version_unmark(p_tbl oid, p_key jsonb)
    RETURNS boolean
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Called by the row trigger of a table with a version column for a row this
 * transaction already wrote, once a no-op UPDATE happened in the transaction:
 * whether the row was only written unchanged (marked by _state_version_noop),
 * so not counted yet. The mark goes: the row counts now, once.
 */
BEGIN
    DELETE FROM idsql.state_version_noop AS m
     WHERE m.xid = pg_current_xact_id() AND m.tbl = p_tbl AND m.key = p_key;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION idsql._state_version_unmark(oid, jsonb) IS
'Internal: whether a row this transaction wrote was only written unchanged by a no-op UPDATE; takes its mark back.';
