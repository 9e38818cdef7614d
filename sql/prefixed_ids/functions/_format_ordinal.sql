CREATE OR REPLACE FUNCTION idsql._format_ordinal(
    p_prefix text,
    p_ordinal bigint,
    p_digits integer,
    p_min_letters integer
)
    RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    STRICT
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the ID with ordinal p_ordinal (>= 1), without checking the arguments:
 * the hot path of generate_id, whose inputs come from the counter table.
 * block = (n-1) / (10^digits - 1), number = (n-1) % (10^digits - 1) + 1.
 */
DECLARE
    v_cap bigint := (10::bigint ^ p_digits)::bigint - 1;
BEGIN
    RETURN p_prefix || '-'
        || idsql._letters((p_ordinal - 1) / v_cap, p_min_letters)
        || lpad(((p_ordinal - 1) % v_cap + 1)::text, p_digits, '0');
END
$$;

COMMENT ON FUNCTION idsql._format_ordinal(text, bigint, integer, integer) IS
'Internal: the ID for an ordinal, arguments unchecked.';
