CREATE OR REPLACE FUNCTION idsql._parse_id(
    p_id text,
    p_digits integer,
    p_min_letters integer,
    OUT prefix text,
    OUT letters text,
    OUT number integer,
    OUT ordinal bigint,
    OUT problem text
)
    RETURNS record
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Split an ID into its parts and its ordinal, or say what is wrong with it in
 * "problem" (a full sentence for an error DETAIL). Never raises, so that
 * is_valid_id can use it in CHECK constraints; parse_id raises on a problem.
 * Only the canonical form is accepted: exactly p_digits digits, number >= 1,
 * at least p_min_letters letters, and an ordinal that fits a bigint.
 */
DECLARE
    v_rest text;
    v_parts text[];
    v_blocks numeric := 0::numeric;
    v_ordinal numeric;
BEGIN
    IF p_digits IS NULL OR p_digits NOT BETWEEN 1 AND 9
       OR p_min_letters IS NULL OR p_min_letters NOT BETWEEN 1 AND 8 THEN
        problem := 'The format is invalid: digits must be 1-9 and min_letters 1-8.';
        RETURN;
    END IF;
    IF p_id IS NULL THEN
        problem := 'The ID is NULL.';
        RETURN;
    END IF;
    IF strpos(p_id, '-') = 0 THEN
        problem := 'There is no "-" between the prefix and the rest.';
        RETURN;
    END IF;
    prefix := split_part(p_id, '-', 1);
    v_rest := substr(p_id, length(prefix) + 2);
    IF prefix !~ '^[A-Z_][A-Z0-9_]{0,19}$' THEN
        problem := format('The prefix part "%s" is not 1-20 characters A-Z, 0-9 or _ starting with a letter or _.',
                          left(prefix, 40));
        RETURN;
    END IF;
    v_parts := regexp_match(v_rest, '^([A-Z]+)([0-9]+)$');
    IF v_parts IS NULL THEN
        problem := format('The part after the prefix, "%s", is not letters A-Z followed by digits 0-9.',
                          left(v_rest, 40));
        RETURN;
    END IF;
    letters := v_parts[1];
    IF length(v_parts[2]) <> p_digits THEN
        problem := format('The number part "%s" has %s digits; this format has %s.',
                          left(v_parts[2], 40), length(v_parts[2]), p_digits);
        RETURN;
    END IF;
    number := v_parts[2]::integer;
    IF number = 0 THEN
        problem := format('The number part "%s" is zero; numbers start at 1.', v_parts[2]);
        RETURN;
    END IF;
    IF length(letters) < p_min_letters THEN
        problem := format('The letter part "%s" has %s letters; this format starts at %s.',
                          letters, length(letters), p_min_letters);
        RETURN;
    END IF;
    IF length(letters) <= 14 THEN
        -- Blocks of every shorter length come first, then this one's index in base 26.
        FOR i IN p_min_letters..length(letters) - 1 LOOP
            v_blocks := v_blocks + 26::numeric ^ i;
        END LOOP;
        FOR i IN 1..length(letters) LOOP
            v_blocks := v_blocks + (ascii(substr(letters, i, 1)) - 65) * 26::numeric ^ (length(letters) - i);
        END LOOP;
        v_ordinal := v_blocks * (10::numeric ^ p_digits - 1) + number;
    END IF;
    IF v_ordinal IS NULL OR v_ordinal > 9223372036854775807 THEN
        problem := format('The ID "%s" is past the last ordinal a bigint can hold.', left(p_id, 60));
        letters := NULL;
        number := NULL;
        RETURN;
    END IF;
    ordinal := v_ordinal::bigint;
END
$$;

COMMENT ON FUNCTION idsql._parse_id(text, integer, integer) IS
'Internal: the parts and ordinal of an ID, or a sentence saying what is wrong with it; never raises.';
