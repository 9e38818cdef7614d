CREATE OR REPLACE FUNCTION idsql._check_format(p_digits integer, p_min_letters integer)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise 22023 unless digits is 1-9 and min_letters is 1-8: the ranges the
 * counter table accepts, and small enough that every ordinal fits a bigint.
 */
BEGIN
    IF p_digits IS NULL OR p_digits NOT BETWEEN 1 AND 9 THEN
        RAISE EXCEPTION 'invalid digits "%"', coalesce(p_digits::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The number part of an ID has 1 to 9 digits.',
                  HINT = 'Use digits => 4 for the usual 0001-9999.';
    END IF;
    IF p_min_letters IS NULL OR p_min_letters NOT BETWEEN 1 AND 8 THEN
        RAISE EXCEPTION 'invalid min_letters "%"', coalesce(p_min_letters::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The first letter block has 1 to 8 letters.',
                  HINT = 'Use min_letters => 3 for the usual AAA.';
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._check_format(integer, integer) IS
'Internal: raise 22023 unless digits is 1-9 and min_letters is 1-8.';
