CREATE OR REPLACE FUNCTION idsql._state_version_noop(p_tbl oid, p_key jsonb)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Called by the row triggers of tracked tables for a no-op UPDATE of a row,
 * which they let PostgreSQL write unchanged (so that it counts in the
 * statement's row count and RETURNING). Sets idsql.state_version_noop for the
 * transaction: the statement triggers then leave unchanged rows out of parents
 * and history. With p_key (a row with a version column, not counted yet in
 * this transaction) it marks the row in idsql.state_version_noop, so that a
 * later change in the transaction still counts (_state_version_unmark).
 * The first call of a transaction also removes up to 1,000 marks of finished
 * transactions, skipping any another session is removing.
 * SECURITY DEFINER: writers need no privilege on the table of marks, and a
 * caller can only mark rows in its own transaction.
 */
BEGIN
    IF current_setting('idsql.state_version_noop', true) IS DISTINCT FROM 'on' THEN
        DELETE FROM idsql.state_version_noop AS m
         WHERE m.ctid = ANY (ARRAY(SELECT g.ctid FROM idsql.state_version_noop AS g
                                    WHERE g.xid < pg_snapshot_xmin(pg_current_snapshot())
                                    LIMIT 1000 FOR UPDATE SKIP LOCKED));
        PERFORM set_config('idsql.state_version_noop', 'on', true);
    END IF;
    IF p_key IS NOT NULL THEN
        INSERT INTO idsql.state_version_noop (tbl, key) VALUES (p_tbl, p_key) ON CONFLICT DO NOTHING;
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._state_version_noop(oid, jsonb) IS
'Internal: a no-op UPDATE of a tracked row is written unchanged; flag the transaction and mark the row as not counted.';
