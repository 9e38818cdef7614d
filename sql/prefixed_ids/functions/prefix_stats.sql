CREATE OR REPLACE FUNCTION idsql.prefix_stats()
    RETURNS TABLE (
        prefix text,
        mode text,
        last_id text,
        issued bigint,
        capacity_left_in_width bigint,
        created_at timestamptz,
        updated_at timestamptz
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * One row per prefix: its mode, last issued ID, how many IDs it has issued
 * (the last ordinal), and how many more fit before IDs grow a letter
 * (capacity_left_in_width: 0 at CUS-ZZZ9999). Reads without locking.
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_cap numeric;
    v_span numeric;
    v_end numeric;
BEGIN
    FOR v_counter IN SELECT c.* FROM idsql.prefix_counter AS c ORDER BY c.prefix LOOP
        prefix := v_counter.prefix;
        mode := v_counter.mode;
        issued := idsql._last_ordinal(v_counter);
        last_id := CASE WHEN issued > 0
                        THEN idsql._format_ordinal(v_counter.prefix, issued, v_counter.digits, v_counter.min_letters)
                   END;
        v_cap := 10::numeric ^ v_counter.digits - 1;
        v_span := 26::numeric ^ v_counter.min_letters;
        v_end := v_span * v_cap;
        WHILE v_end < issued LOOP
            v_span := v_span * 26;
            v_end := v_end + v_span * v_cap;
        END LOOP;
        capacity_left_in_width := least(v_end - issued, 9223372036854775807 - issued)::bigint;
        created_at := v_counter.created_at;
        updated_at := v_counter.updated_at;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.prefix_stats() IS
'One row per prefix: mode, last ID, IDs issued, capacity left before IDs grow a letter, timestamps.';
