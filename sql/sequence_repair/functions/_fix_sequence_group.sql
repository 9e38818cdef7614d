CREATE OR REPLACE FUNCTION idsql._fix_sequence_group(
    seq regclass,
    tables regclass[],
    columns name[],
    column_types regtype[],
    label text,
    margin bigint,
    allow_backward boolean,
    dry_run boolean,
    OUT data_max bigint,
    OUT previous_next bigint,
    OUT next_value bigint,
    OUT status text,
    OUT action text,
    OUT fixed integer,
    OUT notice text,
    OUT warning text
)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Fix one sequence and say what was done, for fix_all_sequences and
 * fix_all_sequences_report. Locks its tables first (see
 * _lock_sequence_tables), then reads the max and moves the sequence: forward
 * whenever the target is ahead of it, backward only with allow_backward. A
 * dry run locks nothing and changes nothing. action is fixed, would_fix,
 * unchanged, skipped_locked or out_of_range; notice is the report line in the
 * original runbook's format, warning a line for what could not be done.
 */
DECLARE
    v_label text := _fix_sequence_group.label;
    v_blocked regclass;
    v_state record;
BEGIN
    fixed := 0;
    IF NOT _fix_sequence_group.dry_run THEN
        v_blocked := idsql._lock_sequence_tables(_fix_sequence_group.tables);
        IF v_blocked IS NOT NULL THEN
            action := 'skipped_locked';
            warning := format('Skipped %s sequence: could not lock table %s within lock_timeout (%s)',
                              v_label, v_blocked, current_setting('lock_timeout'));
            RETURN;
        END IF;
    END IF;
    v_state := idsql._sequence_state(_fix_sequence_group.seq, _fix_sequence_group.tables,
                                     _fix_sequence_group.columns, _fix_sequence_group.column_types,
                                     _fix_sequence_group.margin);
    data_max := v_state.data_max;
    previous_next := v_state.next_value;
    next_value := v_state.next_value;
    status := v_state.status;
    IF v_state.target IS NULL THEN
        action := 'out_of_range';
        warning := format('Cannot fix %s sequence (max: %s): the next value would pass its limit',
                          v_label, v_state.data_max);
        RETURN;
    END IF;
    IF v_state.target IS NOT DISTINCT FROM v_state.next_value
       OR NOT (coalesce(sign(v_state.increment) * (v_state.target::numeric - v_state.next_value) > 0, false)
               OR _fix_sequence_group.allow_backward) THEN
        action := 'unchanged';
        RETURN;
    END IF;
    IF NOT _fix_sequence_group.dry_run THEN
        PERFORM setval(_fix_sequence_group.seq, v_state.target, false);
    END IF;
    next_value := v_state.target;
    action := CASE WHEN _fix_sequence_group.dry_run THEN 'would_fix' ELSE 'fixed' END;
    fixed := 1;
    notice := format('%s %s sequence (max: %s, next: %s)',
                     CASE WHEN _fix_sequence_group.dry_run THEN 'Would fix' ELSE 'Fixed' END,
                     v_label, coalesce(v_state.data_max::text, 'none'), v_state.target);
END
$$;

COMMENT ON FUNCTION idsql._fix_sequence_group(regclass, regclass[], name[], regtype[], text, bigint, boolean, boolean) IS
'Lock the tables of one sequence, move it past their data, and return what was done with its report line.';
