CREATE OR REPLACE FUNCTION idsql.parse_id(
    id text,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS TABLE (prefix text, letters text, number integer, ordinal bigint)
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the parts of an ID and its ordinal: parse_id('CUS-AAB0001') =
 * (CUS, AAB, 1, 10000). Invalid text raises ID002 naming what is wrong.
 */
DECLARE
    v_parsed record;
BEGIN
    PERFORM idsql._check_format(parse_id.digits, parse_id.min_letters);
    v_parsed := idsql._parse_id(parse_id.id, parse_id.digits, parse_id.min_letters);
    IF v_parsed.problem IS NOT NULL THEN
        PERFORM idsql._raise_invalid_id(parse_id.id, v_parsed.problem, parse_id.digits, parse_id.min_letters);
    END IF;
    prefix := v_parsed.prefix;
    letters := v_parsed.letters;
    number := v_parsed.number;
    ordinal := v_parsed.ordinal;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION idsql.parse_id(text, integer, integer) IS
'Return prefix, letters, number and ordinal of an ID; invalid text raises ID002.';
