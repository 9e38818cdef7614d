CREATE OR REPLACE FUNCTION idsql._lock_counter(p_prefix text)
    RETURNS idsql.prefix_counter
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the counter row of a (valid) prefix, created if missing, locked for
 * the rest of the transaction: FOR UPDATE stops gapless callers, and in fast
 * mode a no-op ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence,
 * which waits for and then blocks nextval() (ROW EXCLUSIVE) until commit.
 * Used by the administrative functions (configure, reset, sync) only.
 */
DECLARE
    v_counter idsql.prefix_counter;
BEGIN
    INSERT INTO idsql.prefix_counter (prefix) VALUES (p_prefix)
    ON CONFLICT (prefix) DO NOTHING;
    SELECT c.* INTO STRICT v_counter
      FROM idsql.prefix_counter AS c
     WHERE c.prefix = p_prefix
       FOR UPDATE;
    IF v_counter.fast_seq IS NOT NULL THEN
        EXECUTE format('ALTER SEQUENCE %s NO CYCLE', v_counter.fast_seq);
    END IF;
    RETURN v_counter;
END
$$;

COMMENT ON FUNCTION idsql._lock_counter(text) IS
'Internal: the counter row of a prefix, created if missing and locked (with its sequence) until commit.';
