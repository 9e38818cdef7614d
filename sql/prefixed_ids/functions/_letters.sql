CREATE OR REPLACE FUNCTION idsql._letters(p_block bigint, p_min_letters integer)
    RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    STRICT
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the letter block with index p_block (0-based): with 3 minimum letters,
 * 0 -> AAA, 17575 -> ZZZ, 17576 -> AAAA. Blocks of one length are used up
 * before the next length starts, so the mapping is a bijection. The default
 * format's first width (3 letters, blocks 0-17575) skips the loops: it is
 * the path nearly every generate_id takes.
 */
DECLARE
    v_block bigint := p_block;
    v_len integer := p_min_letters;
    v_span bigint := (26::bigint ^ p_min_letters)::bigint;
    v_out text := '';
BEGIN
    IF p_min_letters = 3 AND p_block < 17576 THEN
        RETURN chr(65 + (p_block / 676)::integer)
            || chr(65 + (p_block / 26 % 26)::integer)
            || chr(65 + (p_block % 26)::integer);
    END IF;
    WHILE v_block >= v_span LOOP
        v_block := v_block - v_span;
        v_len := v_len + 1;
        v_span := v_span * 26;
    END LOOP;
    FOR i IN 1..v_len LOOP
        v_out := chr(65 + (v_block % 26)::integer) || v_out;
        v_block := v_block / 26;
    END LOOP;
    RETURN v_out;
END
$$;

COMMENT ON FUNCTION idsql._letters(bigint, integer) IS
'Internal: the letter block with a 0-based index (AAA, AAB, ... ZZZ, AAAA, ...).';
