CREATE OR REPLACE FUNCTION idsql.increment_id(
    id text,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the ID after id: CUS-AAA9999 -> CUS-AAB0001, CUS-ZZZ9999 -> CUS-AAAA0001.
 */
DECLARE
    v_parsed record;
BEGIN
    PERFORM idsql._check_format(increment_id.digits, increment_id.min_letters);
    v_parsed := idsql._parse_id(increment_id.id, increment_id.digits, increment_id.min_letters);
    IF v_parsed.problem IS NOT NULL THEN
        PERFORM idsql._raise_invalid_id(increment_id.id, v_parsed.problem, increment_id.digits,
                                        increment_id.min_letters);
    END IF;
    IF v_parsed.ordinal = 9223372036854775807 THEN
        RAISE EXCEPTION 'ID "%" is the last one', increment_id.id
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'Its ordinal is the largest a bigint can hold.',
                  HINT = 'Use a new prefix.';
    END IF;
    RETURN idsql._format_ordinal(v_parsed.prefix, v_parsed.ordinal + 1, increment_id.digits,
                                 increment_id.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.increment_id(text, integer, integer) IS
'Return the ID after the given one, e.g. CUS-ZZZ9999 -> CUS-AAAA0001; pure.';
