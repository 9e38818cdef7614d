CREATE OR REPLACE FUNCTION idsql.bulk_generate_ids(prefix text, n integer)
    RETURNS SETOF text
    LANGUAGE plpgsql
    VOLATILE
    -- SECURITY DEFINER: a role granted only usage (grant_access) may draw IDs but must not
    -- write idsql.prefix_counter itself, or it could move a counter back; this function
    -- writes only the row of its (checked) prefix, with its owner's rights.
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return n IDs of a prefix in ascending order: bulk_generate_ids('INV', 3) =
 * INV-AAA0001, INV-AAA0002, INV-AAA0003.
 *
 * Gapless mode: one counter update reserves all n, so they are consecutive;
 * the letters are computed once per block of 9999, the numbers by a plain
 * generate_series. Fast mode: n nextval() calls in one statement: unique and
 * ascending, consecutive unless another session draws from the same prefix
 * at the same moment (a sequence cannot reserve a range atomically).
 */
DECLARE
    v_seq regclass;
    v_digits integer;
    v_min_letters integer;
    v_last bigint;
    v_first bigint;
    v_cap bigint;
    v_block bigint;
    v_head text;
BEGIN
    IF bulk_generate_ids.n IS NULL OR bulk_generate_ids.n NOT BETWEEN 1 AND 10000000 THEN
        RAISE EXCEPTION 'invalid count "%"', coalesce(bulk_generate_ids.n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'bulk_generate_ids makes 1 to 10,000,000 IDs per call.',
                  HINT = 'Call it several times for more.';
    END IF;
    LOOP
        SELECT c.fast_seq, c.digits, c.min_letters
          INTO v_seq, v_digits, v_min_letters
          FROM idsql.prefix_counter AS c
         WHERE c.prefix = bulk_generate_ids.prefix AND c.mode = 'fast';
        IF FOUND THEN
            RETURN QUERY
                SELECT idsql._format_ordinal(bulk_generate_ids.prefix, s.ordinal, v_digits, v_min_letters)
                  FROM (SELECT nextval(v_seq) AS ordinal FROM generate_series(1, bulk_generate_ids.n)) AS s;
            RETURN;
        END IF;
        UPDATE idsql.prefix_counter AS c
           SET last_value = c.last_value + bulk_generate_ids.n,
               updated_at = now()
         WHERE c.prefix = bulk_generate_ids.prefix AND c.mode = 'gapless'
        RETURNING c.last_value, c.digits, c.min_letters
             INTO v_last, v_digits, v_min_letters;
        IF NOT FOUND THEN
            PERFORM idsql._check_prefix(bulk_generate_ids.prefix);
            INSERT INTO idsql.prefix_counter AS c (prefix, last_value)
            VALUES (bulk_generate_ids.prefix, bulk_generate_ids.n)
            ON CONFLICT ON CONSTRAINT prefix_counter_pkey DO UPDATE
                SET last_value = c.last_value + bulk_generate_ids.n,
                    updated_at = now()
                WHERE c.mode = 'gapless'
            RETURNING c.last_value, c.digits, c.min_letters
                 INTO v_last, v_digits, v_min_letters;
        END IF;
        EXIT WHEN v_last IS NOT NULL;
    END LOOP;

    v_first := v_last - bulk_generate_ids.n + 1;
    v_cap := (10::bigint ^ v_digits)::bigint - 1;
    v_block := (v_first - 1) / v_cap;
    WHILE v_block <= (v_last - 1) / v_cap LOOP
        v_head := bulk_generate_ids.prefix || '-' || idsql._letters(v_block, v_min_letters);
        RETURN QUERY
            SELECT v_head || lpad(g::text, v_digits, '0')
              FROM generate_series(greatest(v_first - v_block * v_cap, 1),
                                   least(v_last - v_block * v_cap, v_cap)) AS g;
        v_block := v_block + 1;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.bulk_generate_ids(text, integer) IS
'Return n consecutive IDs of a prefix (1 to 10,000,000), ascending, from one counter update.';
