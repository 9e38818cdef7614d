CREATE OR REPLACE FUNCTION idsql.current_id(prefix text)
    RETURNS text
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the last ID issued for a prefix, or NULL when none has been (or the
 * prefix is unknown). Never consumes an ID. In gapless mode it is the last
 * committed ID, or this transaction's own.
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_ordinal bigint;
BEGIN
    PERFORM idsql._check_prefix(current_id.prefix);
    SELECT c.* INTO v_counter FROM idsql.prefix_counter AS c WHERE c.prefix = current_id.prefix;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_ordinal := idsql._last_ordinal(v_counter);
    IF v_ordinal = 0 THEN
        RETURN NULL;
    END IF;
    RETURN idsql._format_ordinal(v_counter.prefix, v_ordinal, v_counter.digits, v_counter.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.current_id(text) IS
'Return the last ID issued for a prefix, NULL if none; never consumes an ID.';
