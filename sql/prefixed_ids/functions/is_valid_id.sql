CREATE OR REPLACE FUNCTION idsql.is_valid_id(
    id text,
    prefix text DEFAULT NULL,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS boolean
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * True when id is a canonical ID (of the given prefix, when one is given).
 * Never raises and never returns NULL, so it fits CHECK constraints and domains.
 */
DECLARE
    v_parsed record;
BEGIN
    v_parsed := idsql._parse_id(is_valid_id.id, is_valid_id.digits, is_valid_id.min_letters);
    RETURN v_parsed.problem IS NULL
        AND (is_valid_id.prefix IS NULL OR v_parsed.prefix = is_valid_id.prefix);
END
$$;

COMMENT ON FUNCTION idsql.is_valid_id(text, text, integer, integer) IS
'True when the text is a canonical ID (of the prefix, if given); never raises, usable in CHECK constraints.';
