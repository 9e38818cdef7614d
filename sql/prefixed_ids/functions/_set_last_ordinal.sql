CREATE OR REPLACE FUNCTION idsql._set_last_ordinal(p_counter idsql.prefix_counter, p_ordinal bigint)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Make p_ordinal the last issued ordinal of a counter locked by _lock_counter,
 * so the next ID is p_ordinal + 1, in either mode.
 */
BEGIN
    IF p_counter.mode = 'fast' THEN
        PERFORM setval(p_counter.fast_seq, p_ordinal, true);
    END IF;
    UPDATE idsql.prefix_counter AS c
       SET last_value = p_ordinal,
           updated_at = now()
     WHERE c.prefix = p_counter.prefix;
END
$$;

COMMENT ON FUNCTION idsql._set_last_ordinal(idsql.prefix_counter, bigint) IS
'Internal: set the last issued ordinal of a locked counter, in either mode.';
