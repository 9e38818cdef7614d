CREATE OR REPLACE FUNCTION idsql.format_id(
    prefix text,
    ordinal bigint,
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
 * Return the ID with the given ordinal: format_id('CUS', 1) = 'CUS-AAA0001',
 * format_id('CUS', 10000) = 'CUS-AAB0001'. Pure; the inverse of parse_id.
 */
BEGIN
    PERFORM idsql._check_prefix(format_id.prefix);
    PERFORM idsql._check_format(format_id.digits, format_id.min_letters);
    IF format_id.ordinal IS NULL THEN
        RAISE EXCEPTION 'ordinal is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass an ordinal of 1 or more.';
    END IF;
    IF format_id.ordinal < 1 THEN
        RAISE EXCEPTION 'ordinal % is out of range', format_id.ordinal
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'Ordinals start at 1, which is the first ID, for example CUS-AAA0001.',
                  HINT = 'Pass an ordinal of 1 or more.';
    END IF;
    RETURN idsql._format_ordinal(format_id.prefix, format_id.ordinal, format_id.digits, format_id.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.format_id(text, bigint, integer, integer) IS
'Return the ID with the given ordinal, e.g. format_id(''CUS'', 10000) = ''CUS-AAB0001''; pure.';
