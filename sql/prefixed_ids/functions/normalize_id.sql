CREATE OR REPLACE FUNCTION idsql.normalize_id(
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
 * Correct the format of an ID typed or stored carelessly: trim white space,
 * upper-case, zero-pad or unpad the number (' cus-aab12' -> 'CUS-AAB0012').
 * What cannot be recovered without guessing (no "-", too few letters, a number
 * of 0 or too large) raises ID002 naming the problem: never a silent reset.
 */
DECLARE
    v_text text;
    v_parts text[];
    v_number numeric;
    v_parsed record;
BEGIN
    PERFORM idsql._check_format(normalize_id.digits, normalize_id.min_letters);
    v_text := upper(regexp_replace(normalize_id.id, '^\s+|\s+$', '', 'g'));
    v_parts := regexp_match(v_text, '^([A-Z_][A-Z0-9_]{0,19})-([A-Z]+)([0-9]+)$');
    IF v_parts IS NOT NULL THEN
        v_number := v_parts[3]::numeric;
        IF v_number BETWEEN 1 AND 10::numeric ^ normalize_id.digits - 1 THEN
            v_text := v_parts[1] || '-' || v_parts[2] || lpad(v_number::text, normalize_id.digits, '0');
        ELSE
            PERFORM idsql._raise_invalid_id(
                normalize_id.id,
                format('The number %s is outside 1-%s, the range of %s digits.',
                       left(v_parts[3], 40), 10::bigint ^ normalize_id.digits - 1, normalize_id.digits),
                normalize_id.digits, normalize_id.min_letters);
        END IF;
    END IF;
    v_parsed := idsql._parse_id(v_text, normalize_id.digits, normalize_id.min_letters);
    IF v_parsed.problem IS NOT NULL THEN
        PERFORM idsql._raise_invalid_id(normalize_id.id, v_parsed.problem, normalize_id.digits,
                                        normalize_id.min_letters);
    END IF;
    RETURN v_text;
END
$$;

COMMENT ON FUNCTION idsql.normalize_id(text, integer, integer) IS
'Correct the format of an ID (trim, upper-case, zero-pad): '' cus-aab12'' -> ''CUS-AAB0012''; unrecoverable text raises ID002.';
