CREATE OR REPLACE FUNCTION idsql.reset_sequence(prefix text, last_id text)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Make last_id the last issued ID of a prefix, so the next generate_id returns
 * increment_id(last_id); NULL restarts the prefix at its first ID. It may move
 * the counter backwards: that is what a reset is for. Locks the counter until
 * commit (see _lock_counter).
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_parsed record;
    v_ordinal bigint := 0::bigint;
BEGIN
    PERFORM idsql._check_prefix(reset_sequence.prefix);
    v_counter := idsql._lock_counter(reset_sequence.prefix);
    IF reset_sequence.last_id IS NOT NULL THEN
        v_parsed := idsql._parse_id(reset_sequence.last_id, v_counter.digits, v_counter.min_letters);
        IF v_parsed.problem IS NOT NULL THEN
            PERFORM idsql._raise_invalid_id(reset_sequence.last_id, v_parsed.problem, v_counter.digits,
                                            v_counter.min_letters);
        END IF;
        IF v_parsed.prefix <> reset_sequence.prefix THEN
            RAISE EXCEPTION 'ID "%" does not belong to prefix "%"', reset_sequence.last_id, reset_sequence.prefix
                USING ERRCODE = 'ID003',  -- prefix_mismatch
                      DETAIL = format('The ID has prefix "%s".', v_parsed.prefix),
                      HINT = format('Pass an ID that starts with %s-, or NULL to restart the prefix.',
                                    reset_sequence.prefix);
        END IF;
        v_ordinal := v_parsed.ordinal;
    END IF;
    PERFORM idsql._set_last_ordinal(v_counter, v_ordinal);
END
$$;

COMMENT ON FUNCTION idsql.reset_sequence(text, text) IS
'Make the next generate_id return increment_id(last_id); NULL restarts the prefix at its first ID.';
