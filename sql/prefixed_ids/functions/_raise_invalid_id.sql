CREATE OR REPLACE FUNCTION idsql._raise_invalid_id(
    p_id text,
    p_problem text,
    p_digits integer,
    p_min_letters integer
)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise ID002 for an ID that _parse_id rejected, with its reason as DETAIL and
 * an example of the expected format as HINT.
 */
DECLARE
    v_example text := 'CUS-AAA0001';
BEGIN
    IF p_digits BETWEEN 1 AND 9 AND p_min_letters BETWEEN 1 AND 8 THEN
        v_example := idsql._format_ordinal('CUS', 1, p_digits, p_min_letters);
    END IF;
    RAISE EXCEPTION '%', CASE WHEN p_id IS NULL THEN 'ID is NULL'
                          ELSE format('invalid ID "%s"', left(p_id, 60)) END
        USING ERRCODE = 'ID002',  -- invalid_id
              DETAIL = p_problem,
              HINT = format('IDs look like %s: a prefix, "-", letters A-Z, then the number.', v_example);
END
$$;

COMMENT ON FUNCTION idsql._raise_invalid_id(text, text, integer, integer) IS
'Internal: raise ID002 with the reason _parse_id gave.';
