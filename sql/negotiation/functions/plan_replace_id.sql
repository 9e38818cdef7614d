CREATE OR REPLACE FUNCTION idsql.plan_replace_id(tbl regclass, old_id text)
    RETURNS TABLE (
        table_name regclass,
        constraint_name name,
        columns name[],
        rows bigint,
        strategy text,
        problem text
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Dry run of replace_id_everywhere(tbl, old_id, ...), like EXPLAIN: one row
 * for the key itself, one per referencing foreign key and one for the sync
 * queue, with the rows each would rewrite (as far as the caller can see) and
 * how. strategy is 'update key', 'rewrite' (NO ACTION, checked at the end of
 * the statement), 'cascade' (ON UPDATE CASCADE, rewritten the same way),
 * 'queue', or 'refuse' when the replacement would be refused, problem saying
 * why; for a usable key problem warns when no index leads with the
 * referencing column (each replacement then scans the table). Writes nothing.
 */
DECLARE
    v_key record;
    v_fk record;
    v_old text;
    v_count bigint;
BEGIN
    v_key := idsql._negotiation_key(plan_replace_id.tbl);
    EXECUTE format('SELECT $1::%s::text', v_key.type_name) INTO v_old USING plan_replace_id.old_id;
    EXECUTE format('SELECT count(*) FROM %s AS t WHERE t.%I = $1::%s',
                   plan_replace_id.tbl, v_key.column_name, v_key.type_name)
       INTO v_count
      USING v_old;
    table_name := plan_replace_id.tbl;
    constraint_name := (SELECT c.conname FROM pg_constraint AS c
                         WHERE c.conrelid = plan_replace_id.tbl AND c.contype = 'p');
    columns := ARRAY[v_key.column_name];
    rows := v_count;
    strategy := 'update key';
    problem := CASE
        WHEN coalesce((SELECT s.strategy FROM idsql.id_strategy AS s WHERE s.tbl = plan_replace_id.tbl), 'client')
             <> 'server' THEN 'the table uses client IDs, which never change'
        WHEN NOT idsql.is_temp_id(plan_replace_id.tbl, v_old) THEN 'not a temporary ID'
        WHEN v_count = 0 AND NOT EXISTS (SELECT FROM idsql.id_mapping AS m
                                          WHERE m.tbl = plan_replace_id.tbl AND m.temp_id = v_old)
            THEN 'no row has this ID'
    END;
    IF problem IS NOT NULL THEN
        strategy := 'refuse';
    END IF;
    RETURN NEXT;

    FOR v_fk IN SELECT * FROM idsql._referencing_fks(plan_replace_id.tbl, v_key.attnum) LOOP
        EXECUTE format('SELECT count(*) FROM %s AS c WHERE %s', v_fk.child, v_fk.match_condition)
           INTO v_count
          USING NULL::text, v_old;  -- match_condition names the old ID $2
        table_name := v_fk.child;
        constraint_name := v_fk.constraint_name;
        columns := v_fk.child_columns;
        rows := v_count;
        strategy := CASE WHEN v_fk.on_update LIKE 'CASCADE%' THEN 'cascade' ELSE 'rewrite' END;
        problem := NULL;
        IF v_fk.problem IS NOT NULL THEN
            strategy := 'refuse';
            problem := v_fk.problem;
        ELSIF row_security_active(v_fk.child) AND v_fk.on_update NOT LIKE 'CASCADE%' THEN
            strategy := 'refuse';
            problem := 'row-level security may hide referencing rows from the caller';
        ELSIF NOT v_fk.indexed THEN
            problem := format('no index leads with %I: each replacement scans %s', v_fk.child_key_column, v_fk.child);
        END IF;
        RETURN NEXT;
    END LOOP;

    table_name := 'idsql.sync_queue'::regclass;
    constraint_name := NULL;
    columns := ARRAY['model_id', 'temporary_client_id', 'payload']::name[];
    rows := (SELECT count(*) FROM idsql.sync_queue AS q
              WHERE q.model_type = plan_replace_id.tbl AND q.model_id = v_old
                 OR q.temporary_client_id = v_old
                 OR jsonb_path_exists(q.payload, '$.** ? (@ == $v)', jsonb_build_object('v', v_old))
                 OR v_key.kind = 'integer'
                    AND jsonb_path_exists(q.payload, '$.** ? (@ == $v)', jsonb_build_object('v', v_old::numeric)));
    strategy := 'queue';
    problem := NULL;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION idsql.plan_replace_id(regclass, text) IS
'Dry run of replace_id_everywhere: per table and foreign key, the rows it would rewrite, how, and any problem.';
