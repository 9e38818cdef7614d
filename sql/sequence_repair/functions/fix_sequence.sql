CREATE OR REPLACE FUNCTION idsql.fix_sequence(
    tbl regclass,
    col name,
    margin bigint DEFAULT 0,
    allow_backward boolean DEFAULT false
)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The one-table manual fix: find the sequence tbl.col draws from (through the
 * catalog), lock every table that shares it, and move it one increment (plus
 * margin) past their data, or to START when they are empty. Forward only
 * unless allow_backward. Returns the value the next nextval will give. A
 * table it cannot lock within lock_timeout raises 55P03, as LOCK does.
 */
DECLARE
    v_seq regclass;
    v_group record;
    v_fix record;
    v_is_partition boolean;
BEGIN
    PERFORM idsql._check_fix_arguments(fix_sequence.margin, fix_sequence.allow_backward, false);
    IF fix_sequence.tbl IS NULL OR fix_sequence.col IS NULL THEN
        RAISE EXCEPTION 'tbl and col must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table and its column, e.g. fix_sequence(''"user"'', ''user_id'').';
    END IF;
    PERFORM FROM pg_attribute AS a
     WHERE a.attrelid = fix_sequence.tbl AND a.attname = fix_sequence.col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', fix_sequence.col, fix_sequence.tbl
            USING ERRCODE = 'undefined_column',
                  HINT = 'Pass the name of the column whose sequence is behind, as the catalog spells it.';
    END IF;
    SELECT c.sequence_name INTO v_seq
      FROM idsql._sequence_columns() AS c
     WHERE c.table_name = fix_sequence.tbl AND c.column_name = fix_sequence.col;
    IF v_seq IS NULL THEN
        SELECT c.relispartition INTO v_is_partition FROM pg_class AS c WHERE c.oid = fix_sequence.tbl;
        RAISE EXCEPTION 'column "%" of relation "%" draws from no sequence', fix_sequence.col, fix_sequence.tbl
            USING ERRCODE = 'ID201',  -- no_sequence
                  DETAIL = CASE WHEN v_is_partition
                                THEN 'The table is a partition; its sequence belongs to the partitioned table.'
                                ELSE 'It is not serial or identity, and its DEFAULT calls no nextval.' END,
                  HINT = CASE WHEN v_is_partition
                              THEN 'Pass the partitioned table: its max covers every partition.'
                              ELSE 'Pass a serial or identity column, or one whose DEFAULT calls nextval.' END;
    END IF;
    SELECT * INTO STRICT v_group FROM idsql._sequence_groups(null) AS g WHERE g.sequence_name = v_seq;
    v_fix := idsql._fix_sequence_group(v_seq, v_group.tables, v_group.columns, v_group.column_types,
                                       v_group.label, fix_sequence.margin, fix_sequence.allow_backward, false);
    IF v_fix.action = 'skipped_locked' THEN
        RAISE EXCEPTION 'could not lock the tables of sequence % within lock_timeout', v_seq
            USING ERRCODE = 'lock_not_available',
                  DETAIL = v_fix.warning,
                  HINT = 'Retry when the writers are done, or raise lock_timeout.';
    END IF;
    IF v_fix.action = 'out_of_range' THEN
        RAISE EXCEPTION 'sequence % cannot go past the data of %.%', v_seq, fix_sequence.tbl, fix_sequence.col
            USING ERRCODE = 'ID202',  -- sequence_out_of_range
                  DETAIL = format('The data reaches %s; one more value would pass the sequence''s limit.',
                                  v_fix.data_max),
                  HINT = 'Widen the sequence with ALTER SEQUENCE ... AS bigint MAXVALUE ..., or remove the rows at the limit.';
    END IF;
    RETURN v_fix.next_value;
END
$$;

COMMENT ON FUNCTION idsql.fix_sequence(regclass, name, bigint, boolean) IS
'Move the sequence of tbl.col past the data of every column sharing it; return what the next nextval gives.';
