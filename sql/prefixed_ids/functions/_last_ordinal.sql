CREATE OR REPLACE FUNCTION idsql._last_ordinal(p_counter idsql.prefix_counter)
    RETURNS bigint
    LANGUAGE plpgsql
    STABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Ordinal of the last ID issued for a counter row, 0 when none: the row's
 * last_value in gapless mode, the sequence's last value in fast mode (global,
 * not this session's currval).
 */
BEGIN
    IF p_counter.mode = 'fast' THEN
        RETURN coalesce(pg_sequence_last_value(p_counter.fast_seq), 0);
    END IF;
    RETURN p_counter.last_value;
END
$$;

COMMENT ON FUNCTION idsql._last_ordinal(idsql.prefix_counter) IS
'Internal: ordinal of the last ID issued for a counter row, 0 when none.';
