CREATE OR REPLACE FUNCTION idsql._replace_id(tbl regclass, old_id text, new_id text, notify boolean)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The body of replace_id_everywhere(); negotiate_ids() calls it with notify
 * false and sends one notification for the batch.
 *
 * Order: check everything, then write. (1) Canonical text of both IDs via the
 * key's type (' -5' and '-5' are one ID). (2) The advisory lock of the
 * temporary ID, then the mapping: a second session replacing the same ID waits
 * here and, once the first commits, finds the mapping and returns its result.
 * (3) The row, locked FOR UPDATE; the new ID must be free. (4) Every
 * referencing foreign key from the catalog; any that cannot be rewritten, or
 * whose rows row-level security hides from the caller, is refused before
 * anything changes. (5) One UPDATE per table, all in one statement
 * (data-modifying CTEs): PostgreSQL checks NO ACTION keys, deferrable or not,
 * at the end of the statement, when the key and every reference already carry
 * the new value, so no row is copied and no constraint is deferred. A table
 * whose rows reference the key through several columns (several keys, or
 * itself) gets one UPDATE with a CASE per column, since one statement must not
 * update a row twice. ON UPDATE CASCADE keys are rewritten the same way; the
 * cascade then finds nothing left to do. (6) The sync queue, the mapping, the
 * change log and NOTIFY, delivered on commit only.
 * While it runs, the setting idsql.negotiating is 'on' so that user triggers
 * can tell an ID rewrite from an edit.
 */
DECLARE
    v_key record;
    v_strategy text;
    v_old text;
    v_new text;
    v_mapped text;
    v_log_id bigint;
    v_found boolean;
    v_fk record;
    v_citus record;
    v_tables regclass[];
    v_updates text[];
    v_counts bigint[];
    v_queue bigint;
    v_touched jsonb;
    v_old_values jsonb[];
    v_new_values jsonb[];
    v_payload text;
BEGIN
    IF _replace_id.tbl IS NULL OR _replace_id.old_id IS NULL OR _replace_id.new_id IS NULL THEN
        RAISE EXCEPTION 'table, old_id and new_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_key := idsql._negotiation_key(_replace_id.tbl);
    SELECT s.strategy INTO v_strategy FROM idsql.id_strategy AS s WHERE s.tbl = _replace_id.tbl;
    IF v_strategy IS DISTINCT FROM 'server' THEN
        RAISE EXCEPTION 'table % uses client IDs', _replace_id.tbl
            USING ERRCODE = 'ID404',  -- client_id_table
                  DETAIL = 'Under the client strategy an ID never changes.',
                  HINT = 'Call set_id_strategy(table, ''server'') first if its IDs come from the server.';
    END IF;
    EXECUTE format('SELECT $1::%s::text, $2::%s::text', v_key.type_name, v_key.type_name)
       INTO v_old, v_new
      USING _replace_id.old_id, _replace_id.new_id;
    IF NOT idsql.is_temp_id(_replace_id.tbl, v_old) THEN
        RAISE EXCEPTION '"%" is not a temporary ID of %', left(v_old, 100), _replace_id.tbl
            USING ERRCODE = 'ID405',  -- not_temporary_id
                  DETAIL = format('Temporary IDs of this %s key %s.', v_key.kind,
                                  CASE v_key.kind WHEN 'text' THEN 'start with tmp_'
                                                  WHEN 'integer' THEN 'are negative'
                                                  ELSE 'are version 8 UUIDs' END),
                  HINT = 'Only a temporary ID (see new_temp_id) is replaced; a permanent ID never changes.';
    END IF;
    IF idsql.is_temp_id(_replace_id.tbl, v_new) THEN
        RAISE EXCEPTION 'the new ID "%" is itself temporary', left(v_new, 100)
            USING ERRCODE = 'ID406',  -- temporary_new_id
                  DETAIL = format('Replacing %s of %s.', left(v_old, 100), _replace_id.tbl),
                  HINT = 'Replace a temporary ID with a permanent one, such as assign_server_id() allocates.';
    END IF;

    PERFORM idsql._lock_temp_id(_replace_id.tbl, v_old, false);
    SELECT m.permanent_id, m.log_id INTO v_mapped, v_log_id
      FROM idsql.id_mapping AS m
     WHERE m.tbl = _replace_id.tbl AND m.temp_id = v_old;
    IF FOUND THEN
        IF v_mapped = v_new THEN
            RETURN (SELECT l.touched FROM idsql.id_change_log AS l WHERE l.id = v_log_id);
        END IF;
        RAISE EXCEPTION 'temporary ID "%" of % was already replaced by "%"', v_old, _replace_id.tbl, v_mapped
            USING ERRCODE = 'ID408',  -- mapping_conflict
                  DETAIL = format('Asked to replace it by "%s"; change log entry %s.', left(v_new, 100), v_log_id),
                  HINT = 'Use the permanent ID that replaced it (resolve_id); a temporary ID is replaced once.';
    END IF;

    EXECUTE format('SELECT true FROM %s AS t WHERE t.%I = $1::%s FOR UPDATE',
                   _replace_id.tbl, v_key.column_name, v_key.type_name)
       INTO v_found
      USING v_old;
    IF v_found IS NULL THEN
        RAISE EXCEPTION 'no row of % has the temporary ID "%"', _replace_id.tbl, v_old
            USING ERRCODE = 'ID407',  -- temporary_id_not_found
                  DETAIL = format('Looked for %s = %s.', v_key.column_name, v_old),
                  HINT = 'Insert the row with its temporary ID before negotiating it.';
    END IF;
    EXECUTE format('SELECT true FROM %s AS t WHERE t.%I = $1::%s',
                   _replace_id.tbl, v_key.column_name, v_key.type_name)
       INTO v_found
      USING v_new;
    IF v_found OR EXISTS (SELECT FROM idsql.id_mapping AS m
                           WHERE m.tbl = _replace_id.tbl AND m.permanent_id = v_new) THEN
        RAISE EXCEPTION 'ID "%" is already in use in %', left(v_new, 100), _replace_id.tbl
            USING ERRCODE = 'ID409',  -- id_collision
                  DETAIL = format('Replacing %s: %s.', left(v_old, 100),
                                  CASE WHEN v_found THEN 'a row already has the new ID'
                                       ELSE 'the new ID replaced another temporary ID before' END),
                  HINT = 'Ask the server for another ID, or merge the two rows yourself.';
    END IF;

    -- On a Citus server only: nothing here may be a table Citus manages (see the RAISE).
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        FOR v_fk IN SELECT _replace_id.tbl AS child, v_key.column_name AS child_key_column
                    UNION ALL
                    SELECT f.child, f.child_key_column FROM idsql._referencing_fks(_replace_id.tbl, v_key.attnum) AS f
        LOOP
            v_citus := idsql._citus_table(v_fk.child);
            IF v_citus.kind IS NOT NULL THEN
                RAISE EXCEPTION 'cannot rewrite "%" in the % table %', v_old, v_citus.kind, v_fk.child
                    USING ERRCODE = 'ID415',  -- sharded_id
                          DETAIL = CASE WHEN v_citus.distribution_column = v_fk.child_key_column
                                        THEN format('Column %s of %s holds the ID and is its distribution column: the '
                                                    'value places each row in a shard, and Citus does not change it.',
                                                    quote_ident(v_fk.child_key_column), v_fk.child)
                                        ELSE format('Column %s of %s holds the ID. Citus rewrites each table''s shards on '
                                                    'their own, so foreign keys would be checked half-way.',
                                                    quote_ident(v_fk.child_key_column), v_fk.child) END,
                          HINT = 'Negotiate in tables Citus does not manage, and give rows their permanent ID '
                                 'before they reach a distributed or reference table.';
            END IF;
        END LOOP;
    END IF;
    FOR v_fk IN SELECT * FROM idsql._referencing_fks(_replace_id.tbl, v_key.attnum) LOOP
        IF v_fk.problem IS NOT NULL THEN
            RAISE EXCEPTION 'cannot rewrite foreign key "%" on %', v_fk.constraint_name, v_fk.child
                USING ERRCODE = 'ID410',  -- unsafe_foreign_key
                      DETAIL = format('Constraint %s on %s (ON UPDATE %s): %s.',
                                      v_fk.constraint_name, v_fk.child, v_fk.on_update, v_fk.problem),
                      HINT = 'Declare the foreign key ON UPDATE CASCADE, or NO ACTION DEFERRABLE.';
        END IF;
        IF row_security_active(v_fk.child) AND v_fk.on_update NOT LIKE 'CASCADE%' THEN
            RAISE EXCEPTION 'row-level security on % may hide references to "%"', v_fk.child, v_old
                USING ERRCODE = 'ID411',  -- hidden_references
                      DETAIL = format('Constraint %s on %s is rewritten by the caller, who may not see every row.',
                                      v_fk.constraint_name, v_fk.child),
                      HINT = 'Negotiate as a role that bypasses row-level security on the table, '
                             'or declare the foreign key ON UPDATE CASCADE.';
        END IF;
    END LOOP;

    -- One UPDATE per table: SET col = CASE WHEN <references the key> THEN new ELSE col END.
    WITH ref AS (
        SELECT _replace_id.tbl AS child, v_key.column_name AS col, v_key.type_name AS col_type,
               format('c.%I = $2::%s', v_key.column_name, v_key.type_name) AS cond
        UNION ALL
        SELECT f.child, f.child_key_column, f.child_key_type, f.match_condition
          FROM idsql._referencing_fks(_replace_id.tbl, v_key.attnum) AS f
    ), per_column AS (
        SELECT r.child, r.col, r.col_type, string_agg('(' || r.cond || ')', ' OR ' ORDER BY r.cond) AS conds
          FROM ref AS r
         GROUP BY r.child, r.col, r.col_type
    ), per_table AS (
        SELECT pc.child,
               format('UPDATE %s AS c SET %s WHERE %s RETURNING 1', pc.child,
                      string_agg(format('%I = CASE WHEN %s THEN $1::%s ELSE c.%I END',
                                        pc.col, pc.conds, pc.col_type, pc.col), ', ' ORDER BY pc.col),
                      string_agg(pc.conds, ' OR ' ORDER BY pc.col)) AS stmt
          FROM per_column AS pc
         GROUP BY pc.child
    )
    SELECT array_agg(pt.child ORDER BY pt.child::text), array_agg(pt.stmt ORDER BY pt.child::text)
      INTO v_tables, v_updates
      FROM per_table AS pt;

    PERFORM set_config('idsql.negotiating', 'on', true);
    EXECUTE (SELECT 'WITH ' || string_agg(format('u%s AS (%s)', u.n, u.stmt), ', ' ORDER BY u.n)
                    || ' SELECT ARRAY[' || string_agg(format('(SELECT count(*) FROM u%s)', u.n), ', ' ORDER BY u.n)
                    || ']::bigint[]'
               FROM unnest(v_updates) WITH ORDINALITY AS u (stmt, n))
       INTO v_counts
      USING v_new, v_old;
    PERFORM set_config('idsql.negotiating', 'off', true);

    -- The sync queue: the item's own key, and whole JSON values equal to the old ID.
    v_old_values := ARRAY[to_jsonb(v_old)];
    v_new_values := ARRAY[to_jsonb(v_new)];
    IF v_key.kind = 'integer' THEN
        v_old_values := v_old_values || to_jsonb(v_old::numeric);
        v_new_values := v_new_values || to_jsonb(v_new::numeric);
    END IF;
    WITH hit AS (
        SELECT q.id,
               EXISTS (SELECT FROM unnest(v_old_values) AS o (value)
                        WHERE jsonb_path_exists(q.payload, '$.** ? (@ == $v)', jsonb_build_object('v', o.value)))
                   AS in_payload
          FROM idsql.sync_queue AS q
    ), changed AS (
        UPDATE idsql.sync_queue AS q
           SET model_id = CASE WHEN q.model_type = _replace_id.tbl AND q.model_id = v_old
                               THEN v_new ELSE q.model_id END,
               temporary_client_id = CASE WHEN q.temporary_client_id = v_old
                                          THEN v_new ELSE q.temporary_client_id END,
               payload = CASE WHEN h.in_payload
                              THEN idsql._jsonb_replace_value(
                                       CASE WHEN cardinality(v_old_values) = 2
                                            THEN idsql._jsonb_replace_value(q.payload, v_old_values[2], v_new_values[2])
                                            ELSE q.payload END,
                                       v_old_values[1], v_new_values[1])
                              ELSE q.payload END
          FROM hit AS h
         WHERE h.id = q.id
           AND (q.model_type = _replace_id.tbl AND q.model_id = v_old
                OR q.temporary_client_id = v_old
                OR h.in_payload)
        RETURNING 1
    )
    SELECT count(*) INTO v_queue FROM changed;

    SELECT jsonb_object_agg(t.tbl::text, t.n) || jsonb_build_object('idsql.sync_queue', v_queue)
      INTO v_touched
      FROM unnest(v_tables, v_counts) AS t (tbl, n);
    INSERT INTO idsql.id_change_log (tbl, old_id, new_id, touched)
    VALUES (_replace_id.tbl, v_old, v_new, '{}')
    RETURNING id INTO v_log_id;
    v_touched := jsonb_build_object('table', _replace_id.tbl::text, 'old_id', v_old, 'new_id', v_new,
                                    'log_id', v_log_id, 'touched', v_touched);
    UPDATE idsql.id_change_log AS l SET touched = v_touched WHERE l.id = v_log_id;
    INSERT INTO idsql.id_mapping (tbl, temp_id, permanent_id, log_id)
    VALUES (_replace_id.tbl, v_old, v_new, v_log_id);

    IF _replace_id.notify THEN
        v_payload := json_build_object('table', _replace_id.tbl::text, 'old_id', v_old,
                                       'new_id', v_new, 'log_id', v_log_id)::text;
        IF octet_length(v_payload) >= 8000 THEN
            -- Too long for NOTIFY: the listener reads the IDs from the log.
            v_payload := json_build_object('table', _replace_id.tbl::text, 'log_id', v_log_id)::text;
        END IF;
        PERFORM pg_notify('idsql_id_changed', v_payload);
    END IF;
    RETURN v_touched;
END
$$;

COMMENT ON FUNCTION idsql._replace_id(regclass, text, text, boolean) IS
'Internal: replace_id_everywhere(), with the notification optional (negotiate_ids sends one per batch).';
