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
 * its own: the caller locks when it needs a stable max. On a Citus coordinator
 * the bigint columns of tables Citus manages count below 2^48 only, where the
 * first worker's range begins.
 */
DECLARE
    v_start bigint;
    v_seqmin bigint;
    v_seqmax bigint;
    v_extreme text := '';
    v_dir integer;
    v_low numeric;
    v_high numeric;
    v_next numeric;
    v_target numeric;
    v_reach numeric;
    v_near boolean;
    v_citus boolean := to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL;
    v_sharded boolean;
    v_ranged boolean := false;
    v_worker_range constant bigint := 281474976710656;  -- 2^48: where the first worker's range starts
BEGIN
    SELECT p.seqstart, p.seqincrement, p.seqmin, p.seqmax INTO STRICT v_start, increment, v_seqmin, v_seqmax
      FROM pg_sequence AS p
     WHERE p.seqrelid = _sequence_state.seq;
    -- One dynamic statement per sequence reads its state and the data's extreme: this runs once
    -- per table of the database, and planning it is most of the cost, so it names only the
    -- aggregate the sequence's direction needs.
    FOR i IN 1 .. cardinality(_sequence_state.tables) LOOP
        -- On a Citus coordinator, a bigint column of a table Citus manages also holds what the
        -- workers drew: worker group g draws from its own range, from g * 2^48 + 1. The
        -- coordinator's sequence must stay below the first of them, and only its own range counts.
        v_sharded := v_citus AND _sequence_state.column_types[i] = 'bigint'::regtype
                     AND (idsql._citus_table(_sequence_state.tables[i])).kind IS NOT NULL;
        v_ranged := v_ranged OR v_sharded;
        v_extreme := v_extreme || CASE WHEN i > 1 THEN ', ' ELSE '' END
                     || format('(SELECT %s(t.%I)::bigint FROM %s AS t%s)',
                               CASE WHEN increment > 0 THEN 'max' ELSE 'min' END,
                               _sequence_state.columns[i], _sequence_state.tables[i],
                               CASE WHEN v_sharded THEN format(' WHERE t.%I < %s', _sequence_state.columns[i],
                                                               v_worker_range) ELSE '' END);
    END LOOP;
    EXECUTE format('SELECT s.last_value, s.is_called, %s(%s) FROM %s AS s',
                   CASE WHEN increment > 0 THEN 'greatest' ELSE 'least' END, v_extreme, _sequence_state.seq)
       INTO STRICT last_value, is_called, data_max;
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
    IF v_ranged THEN
        v_seqmax := least(v_seqmax, v_worker_range - 1);
        v_high := least(v_high, v_worker_range - 1);
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
