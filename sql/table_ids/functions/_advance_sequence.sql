CREATE OR REPLACE FUNCTION idsql._advance_sequence(seq regclass, past bigint)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Move the sequence of a table counter forward so that its next value is
 * above past; never backwards, and values already handed out are never
 * handed out again.
 *
 * A plain setval() computed from a read of the sequence could rewind it past
 * values other sessions took in between, so a jump of up to 100 000 burns
 * the values with nextval() instead: no lock, nothing to wait for, about
 * 0.6 us a value, and the burnt values are all below an ID already in the
 * table (gaps are never refilled anyway). A longer jump takes the lock of a
 * no-op ALTER SEQUENCE (SHARE ROW EXCLUSIVE: it waits for every open
 * transaction that has called nextval() on the sequence, then blocks new ones
 * until commit), and under it setval() is safe. Two such jumps at once in
 * transactions that both hold IDs of the table deadlock (40P01, retry).
 */
DECLARE
    v_last bigint;
BEGIN
    -- A stale read is only ever too low: the burst then overshoots, which costs a gap.
    v_last := coalesce(pg_sequence_last_value(_advance_sequence.seq), 0);
    IF v_last >= _advance_sequence.past THEN
        RETURN;
    END IF;
    IF _advance_sequence.past - v_last <= 100000 THEN
        PERFORM max(nextval(_advance_sequence.seq)) FROM generate_series(v_last + 1, _advance_sequence.past);
        RETURN;
    END IF;
    EXECUTE format('ALTER SEQUENCE %s NO CYCLE', _advance_sequence.seq);
    v_last := coalesce(pg_sequence_last_value(_advance_sequence.seq), 0);
    IF v_last < _advance_sequence.past THEN
        PERFORM setval(_advance_sequence.seq, _advance_sequence.past, true);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._advance_sequence(regclass, bigint) IS
'Internal: move a table counter''s sequence forward so that its next value is above past, never backwards.';
