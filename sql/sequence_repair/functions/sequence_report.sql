CREATE OR REPLACE FUNCTION idsql.sequence_report(schemas name[] DEFAULT null)
    RETURNS TABLE (
        table_name regclass,
        column_name name,
        sequence_name regclass,
        kind text,
        data_max bigint,
        last_value bigint,
        is_called boolean,
        next_value bigint,
        status text
    )
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Read-only drift report: one row per column that draws from a sequence, in
 * `schemas` (NULL: every user schema). kind is serial, identity or default (a
 * DEFAULT calling nextval on a sequence the column does not own). data_max is
 * the data's extreme in the sequence's direction (min() for a descending one),
 * across every column sharing the sequence, so each of them shows the
 * sequence's real state. next_value is what nextval would return (NULL when
 * exhausted). status: behind (inserts will collide), near_limit (under 10% of
 * the range left), empty, ahead, ok. Takes no locks beyond reading; VOLATILE
 * because it reads sequences, which do not follow snapshots.
 */
DECLARE
    v_group record;
    v_state record;
BEGIN
    FOR v_group IN SELECT * FROM idsql._sequence_groups(sequence_report.schemas) LOOP
        v_state := idsql._sequence_state(v_group.sequence_name, v_group.tables, v_group.columns,
                                         v_group.column_types, 0::bigint);
        FOR i IN 1 .. cardinality(v_group.tables) LOOP
            CONTINUE WHEN NOT idsql._in_schemas(v_group.tables[i], sequence_report.schemas);
            table_name := v_group.tables[i];
            column_name := v_group.columns[i];
            sequence_name := v_group.sequence_name;
            kind := v_group.kinds[i];
            data_max := v_state.data_max;
            last_value := v_state.last_value;
            is_called := v_state.is_called;
            next_value := v_state.next_value;
            status := v_state.status;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.sequence_report(name[]) IS
'Drift report: per column on a sequence, its kind, the data max, last_value, is_called, next value and status.';
