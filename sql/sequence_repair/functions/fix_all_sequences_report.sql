CREATE OR REPLACE FUNCTION idsql.fix_all_sequences_report(
    schemas name[] DEFAULT null,
    margin bigint DEFAULT 0,
    allow_backward boolean DEFAULT false,
    dry_run boolean DEFAULT false
)
    RETURNS TABLE (
        table_name regclass,
        column_name name,
        sequence_name regclass,
        kind text,
        data_max bigint,
        previous_next bigint,
        next_value bigint,
        status text,
        action text
    )
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * fix_all_sequences as a function: the same work, sequence by sequence, in the
 * caller's transaction (locks are held until it ends: size
 * max_locks_per_transaction for very many tables, or use the procedure).
 * Returns one row per column in schemas: status is what the report said before the fix,
 * action what was done (fixed, would_fix, unchanged, skipped_locked,
 * out_of_range), previous_next and next_value the next value before and after.
 * A table it cannot lock within lock_timeout is reported, not raised, and the
 * other sequences are still fixed.
 */
DECLARE
    v_group record;
    v_fix record;
BEGIN
    PERFORM idsql._check_fix_arguments(fix_all_sequences_report.margin, fix_all_sequences_report.allow_backward,
                                       fix_all_sequences_report.dry_run);
    FOR v_group IN SELECT * FROM idsql._sequence_groups(fix_all_sequences_report.schemas) LOOP
        v_fix := idsql._fix_sequence_group(v_group.sequence_name, v_group.tables, v_group.columns,
                                           v_group.column_types, v_group.label, fix_all_sequences_report.margin,
                                           fix_all_sequences_report.allow_backward, fix_all_sequences_report.dry_run);
        FOR i IN 1 .. cardinality(v_group.tables) LOOP
            -- Rows for the columns in schemas, as sequence_report lists them; the fix covered all.
            CONTINUE WHEN NOT idsql._in_schemas(v_group.tables[i], fix_all_sequences_report.schemas);
            table_name := v_group.tables[i];
            column_name := v_group.columns[i];
            sequence_name := v_group.sequence_name;
            kind := v_group.kinds[i];
            data_max := v_fix.data_max;
            previous_next := v_fix.previous_next;
            next_value := v_fix.next_value;
            status := v_fix.status;
            action := v_fix.action;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.fix_all_sequences_report(name[], bigint, boolean, boolean) IS
'Fix every sequence behind its data in the caller''s transaction; one row per column with its status and action.';
