CREATE OR REPLACE FUNCTION idsql._state_version_touch(p_tbl regclass, p_keys jsonb[])
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Count a change for the rows of a versioned table with these keys (the
 * parents of changed rows): lock them in key order, so that transactions
 * changing children of the same parents queue instead of deadlocking, then
 * one UPDATE for all of them. The row trigger bumps each row at most once per
 * transaction; the flag tells it that this no-op UPDATE is a change, and the
 * table's own statement trigger carries the change on to its parent. FOR NO
 * KEY UPDATE is the lock the UPDATE takes anyway, and does not block inserts
 * of children (their foreign key check takes KEY SHARE).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_keys text := idsql._state_version_columns(v_cfg.key_columns, 't');
    v_match text;
BEGIN
    IF p_keys IS NULL OR cardinality(p_keys) = 0 OR NOT v_cfg.enabled THEN
        RETURN;
    END IF;
    v_match := format('(%s) IN (SELECT %s FROM pg_catalog.unnest($1) AS k (j),'
                      ' pg_catalog.jsonb_populate_record(NULL::%s, k.j) AS r)',
                      v_keys, idsql._state_version_columns(v_cfg.key_columns, 'r'), p_tbl);
    EXECUTE format('SELECT count(*) FROM (SELECT FROM %s AS t WHERE %s ORDER BY %s FOR NO KEY UPDATE OF t) AS s',
                   p_tbl, v_match, v_keys)
        USING p_keys;
    PERFORM set_config('idsql.state_version_touch', 'on', true);
    EXECUTE format('UPDATE %1$s AS t SET %2$I = t.%2$I WHERE %3$s', p_tbl, v_cfg.version_column, v_match)
        USING p_keys;
    PERFORM set_config('idsql.state_version_touch', 'off', true);
END
$$;

COMMENT ON FUNCTION idsql._state_version_touch(regclass, jsonb[]) IS
'Internal: count one change for the rows with these keys (lock in key order, then bump once per transaction).';
