CREATE OR REPLACE FUNCTION idsql.configure_prefix(
    prefix text,
    mode text DEFAULT 'gapless',
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Create a prefix or change its settings. The format (digits, min_letters)
 * is fixed once an ID has been issued, since issued IDs would read
 * differently; the mode can change at any time and the next ID continues the
 * sequence. Gapless -> fast creates (or re-opens) the prefix's sequence at the
 * counter; fast -> gapless copies the sequence into the counter and caps the
 * sequence there, so a caller that read "fast" just before the switch gets a
 * 2200H error rather than an ID the counter will issue again. Locks the
 * counter and its sequence until commit.
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_issued bigint;
    v_seq regclass;
    v_seq_name text;
BEGIN
    PERFORM idsql._check_prefix(configure_prefix.prefix);
    IF configure_prefix.mode IS NULL OR configure_prefix.mode NOT IN ('gapless', 'fast') THEN
        RAISE EXCEPTION '%', CASE WHEN configure_prefix.mode IS NULL THEN 'mode is NULL'
                          ELSE format('invalid mode "%s"', left(configure_prefix.mode, 40)) END
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The mode is gapless or fast.',
                  HINT = 'Use gapless (no holes; callers of one prefix queue) or fast (never waits; a rollback leaves a hole).';
    END IF;
    PERFORM idsql._check_format(configure_prefix.digits, configure_prefix.min_letters);

    v_counter := idsql._lock_counter(configure_prefix.prefix);
    v_issued := idsql._last_ordinal(v_counter);
    IF v_issued > 0 AND (v_counter.digits, v_counter.min_letters)
                        IS DISTINCT FROM (configure_prefix.digits, configure_prefix.min_letters) THEN
        RAISE EXCEPTION 'cannot change the format of prefix "%"', configure_prefix.prefix
            USING ERRCODE = 'ID004',  -- format_locked
                  DETAIL = format('The prefix has issued IDs up to %s with %s digits and at least %s letters.',
                                  idsql._format_ordinal(v_counter.prefix, v_issued, v_counter.digits,
                                                        v_counter.min_letters),
                                  v_counter.digits, v_counter.min_letters),
                  HINT = 'Use a new prefix, or reset_sequence(prefix, NULL) first if none of its IDs is in use.';
    END IF;

    v_seq := v_counter.fast_seq;
    IF configure_prefix.mode = 'fast' AND v_counter.mode = 'gapless' THEN
        IF v_seq IS NULL THEN
            -- IF NOT EXISTS: a counter row deleted by hand leaves its sequence behind.
            v_seq_name := format('prefix_%s_seq', lower(configure_prefix.prefix));
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS idsql.%I AS bigint NO CYCLE', v_seq_name);
            v_seq := to_regclass(format('idsql.%I', v_seq_name));
            EXECUTE format('COMMENT ON SEQUENCE %s IS %L', v_seq,
                           format('Counter of prefix %s in fast mode (see idsql.prefix_counter).',
                                  configure_prefix.prefix));
            PERFORM idsql._share_sequence(v_seq);
        END IF;
        -- MINVALUE 0 so that setval(seq, 0) can mean "nothing issued yet"; NO MAXVALUE
        -- lifts the cap a switch to gapless put on it.
        EXECUTE format('ALTER SEQUENCE %s MINVALUE 0 NO MAXVALUE', v_seq);
        PERFORM setval(v_seq, v_issued, true);
    ELSIF configure_prefix.mode = 'gapless' AND v_counter.mode = 'fast' THEN
        EXECUTE format('ALTER SEQUENCE %s MAXVALUE %s', v_seq, greatest(v_issued, 1));
        PERFORM setval(v_seq, greatest(v_issued, 1), true);
    END IF;

    UPDATE idsql.prefix_counter AS c
       SET mode = configure_prefix.mode,
           digits = configure_prefix.digits,
           min_letters = configure_prefix.min_letters,
           last_value = v_issued,
           fast_seq = v_seq,
           updated_at = now()
     WHERE c.prefix = configure_prefix.prefix;
END
$$;

COMMENT ON FUNCTION idsql.configure_prefix(text, text, integer, integer) IS
'Create a prefix or change its mode (gapless or fast) and format; the format is fixed once IDs are issued.';
