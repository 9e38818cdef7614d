CREATE OR REPLACE FUNCTION idsql._sequence_state(
    seq regclass,
    tables regclass[],
    columns name[],
    column_types regtype[],
    margin bigint,
    OUT increment bigint,
    OUT data_max bigint,
    OUT last_value bigint,
    OUT is_called boolean,
    OUT next_value bigint,
    OUT target bigint,
    OUT status text
)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Where a sequence stands against the data of every column that draws from
 * it. "Max" is taken in the sequence's direction: max() for an ascending
 * sequence, min() for a descending one, across all its columns (a shared
 * sequence must clear them all). next_value is what nextval would return now
 * (NULL when the sequence is exhausted); target is where a fix puts it: one
 * increment (plus margin) past the data, or START for empty tables, never
 * outside MINVALUE..MAXVALUE (NULL when the data leaves no room). near_limit
 * means less than 10% of the usable range is left, the range being the
 * sequence's bounds narrowed to the smallest column type it feeds. Exact
 * arithmetic in numeric, so bigint edges cannot overflow. Takes no locks of
 * its own: the caller locks when it needs a stable max.
 */
DECLARE
    v_start bigint;
    v_seqmin bigint;
    v_seqmax bigint;
    v_max text := '';
    v_min text := '';
    v_dir integer;
    v_low numeric;
    v_high numeric;
    v_next numeric;
    v_target numeric;
    v_reach numeric;
    v_near boolean;
BEGIN
    -- One statement reads the sequence's settings, its state and the data's extreme: this runs
    -- once per table of the database. Only the CASE branch for the sequence's direction runs.
    FOR i IN 1 .. cardinality(_sequence_state.tables) LOOP
        v_max := v_max || CASE WHEN i > 1 THEN ', ' ELSE '' END
                 || format('(SELECT max(t.%I)::bigint FROM %s AS t)',
                           _sequence_state.columns[i], _sequence_state.tables[i]);
        v_min := v_min || CASE WHEN i > 1 THEN ', ' ELSE '' END
                 || format('(SELECT min(t.%I)::bigint FROM %s AS t)',
                           _sequence_state.columns[i], _sequence_state.tables[i]);
    END LOOP;
    EXECUTE format('SELECT p.seqstart, p.seqincrement, p.seqmin, p.seqmax, s.last_value, s.is_called,'
                   ' CASE WHEN p.seqincrement > 0 THEN greatest(%s) ELSE least(%s) END AS data_max'
                   ' FROM %s AS s, pg_catalog.pg_sequence AS p WHERE p.seqrelid = $1',
                   v_max, v_min, _sequence_state.seq)
       INTO STRICT v_start, increment, v_seqmin, v_seqmax, last_value, is_called, data_max
       USING _sequence_state.seq;
    v_dir := sign(increment)::integer;

    v_low := v_seqmin::numeric;
    v_high := v_seqmax::numeric;
    IF 'smallint'::regtype = ANY(_sequence_state.column_types) THEN
        v_low := greatest(v_low, -32768);
        v_high := least(v_high, 32767);
    ELSIF 'integer'::regtype = ANY(_sequence_state.column_types) THEN
        v_low := greatest(v_low, -2147483648);
        v_high := least(v_high, 2147483647);
    END IF;

    v_next := CASE WHEN is_called
                   THEN last_value::numeric + increment
                   ELSE last_value::numeric END;
    next_value := CASE WHEN v_next BETWEEN v_seqmin AND v_seqmax THEN v_next::bigint END;

    IF data_max IS NULL THEN
        v_target := v_start::numeric;
        v_reach := v_next;
    ELSE
        v_target := data_max::numeric + increment + v_dir * coalesce(_sequence_state.margin, 0);
        -- Data below MINVALUE (ascending) needs no move past it: MINVALUE is already ahead.
        v_target := CASE WHEN v_dir > 0 THEN greatest(v_target, v_seqmin) ELSE least(v_target, v_seqmax) END;
        v_reach := CASE WHEN v_dir > 0 THEN greatest(v_next, data_max::numeric + increment)
                        ELSE least(v_next, data_max::numeric + increment) END;
    END IF;
    target := CASE WHEN v_target BETWEEN v_seqmin AND v_seqmax THEN v_target::bigint END;

    v_near := CASE WHEN v_dir > 0 THEN v_high - v_reach ELSE v_reach - v_low END < (v_high - v_low) / 10;
    status := CASE
        WHEN data_max IS NOT NULL AND v_dir * (v_next - data_max) <= 0 THEN 'behind'
        WHEN v_near THEN 'near_limit'
        WHEN data_max IS NULL THEN 'empty'
        WHEN v_dir * (v_next - data_max - increment) > 0 THEN 'ahead'
        ELSE 'ok'
    END;
END
$$;

COMMENT ON FUNCTION idsql._sequence_state(regclass, regclass[], name[], regtype[], bigint) IS
'Compare a sequence with the data of its columns: data max in its direction, next value, fix target and status.';
