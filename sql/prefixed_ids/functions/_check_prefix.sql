CREATE OR REPLACE FUNCTION idsql._check_prefix(p_prefix text)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise ID001 unless p_prefix is 1-20 characters A-Z, 0-9 or _, starting with
 * a letter or _. The DETAIL names the first thing that is wrong.
 */
DECLARE
    v_detail text;
BEGIN
    IF p_prefix ~ '^[A-Z_][A-Z0-9_]{0,19}$' THEN
        RETURN;
    END IF;
    v_detail := CASE
        WHEN p_prefix IS NULL THEN 'The prefix is NULL.'
        WHEN p_prefix = '' THEN 'The prefix is empty.'
        WHEN length(p_prefix) > 20 THEN format('The prefix has %s characters; the limit is 20.', length(p_prefix))
        WHEN p_prefix ~ '^[0-9]' THEN 'The prefix starts with a digit.'
        WHEN p_prefix ~ '[a-z]' THEN 'The prefix contains lower-case letters.'
        ELSE format('The prefix contains "%s", which is not A-Z, 0-9 or _.',
                    substring(p_prefix FROM '[^A-Z0-9_]'))
    END;
    RAISE EXCEPTION '%', CASE WHEN p_prefix IS NULL THEN 'prefix is NULL'
                          ELSE format('invalid prefix "%s"', left(p_prefix, 40)) END
        USING ERRCODE = 'ID001',  -- invalid_prefix
              DETAIL = v_detail,
              HINT = 'Use 1-20 characters A-Z, 0-9 or _, starting with a letter or _, for example CUS.';
END
$$;

COMMENT ON FUNCTION idsql._check_prefix(text) IS
'Internal: raise ID001 unless the text is a valid prefix.';
