CREATE OR REPLACE FUNCTION idsql._insert_with_retry(tbl regclass, data jsonb, retry_attempts integer)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Insert data into tbl with the next ID and return the row as jsonb, or NULL
 * when every one of retry_attempts attempts found its ID taken. Shared by
 * insert_with_retry (which raises on NULL) and pyidsql.IDManager (which keeps
 * the original contract: None, and the caller's transaction still usable).
 *
 * Columns come from the keys of data, matched against the catalog (never
 * spliced from the keys themselves) and quoted; values are typed by
 * jsonb_populate_record over the table's row type; columns not in data get
 * their defaults. A taken ID is detected with ON CONFLICT (id) DO NOTHING, no
 * subtransaction: ON CONFLICT waits for the transaction that holds the ID, and
 * the next try sees that row through max(id) and skips past it (and further
 * on repeated conflicts: see the loop). retry_attempts bounds the conflicts
 * that trying again cannot outrun; a race for the ID just taken is not one.
 * A conflict on any other unique constraint raises 23505 as a plain INSERT
 * would: retrying could never help.
 *
 * The INSERT is prepared once per session for each table and set of keys, as
 * a statement named idsql_insert_<md5 of what its text depends on>, and runs
 * through EXECUTE with data as a quoted literal: planning the INSERT and
 * checking the keys against the catalog on every call cost several times the
 * INSERT itself. A statement is only ever run for the key it was prepared
 * for; one dropped by DEALLOCATE or DISCARD is prepared again. A table
 * altered later re-plans its statements as PostgreSQL always does, and a
 * column dropped or renamed since is then reported by PostgreSQL itself
 * (42703). A session keeps at most 32 of these statements: an application
 * that leaves out its NULL keys makes a set of keys per combination, and
 * each statement holds memory in the backend for as long as the session
 * lasts. Preparing one more deallocates the oldest.
 */
DECLARE
    v_column name;
    v_seq regclass;
    v_always boolean;
    v_stmt text;
    v_execute text;
    v_unknown text;
    v_generated text;
    v_identity text;
    v_has_id boolean;
    v_columns text;
    v_values text;
    v_row jsonb;
    v_oldest text;
    v_max bigint;
    v_taken text;
    v_race boolean;
    v_citus boolean;
    v_tries integer := 0;
    v_attempts integer := 0;
BEGIN
    IF _insert_with_retry.tbl IS NULL OR _insert_with_retry.data IS NULL THEN
        RAISE EXCEPTION 'tbl and data must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table and the row as a JSON object, e.g. insert_with_retry(''feedback'', ''{"rating": 5}'').';
    END IF;
    IF jsonb_typeof(_insert_with_retry.data) <> 'object' THEN
        RAISE EXCEPTION 'data must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got a JSON %s.', jsonb_typeof(_insert_with_retry.data)),
                  HINT = 'Pass the row as {"column": value, ...}, without the ID.';
    END IF;
    IF _insert_with_retry.retry_attempts IS NULL OR _insert_with_retry.retry_attempts < 1 THEN
        RAISE EXCEPTION 'invalid retry_attempts %', coalesce(_insert_with_retry.retry_attempts::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'retry_attempts is the number of IDs to try, at least 1.',
                  HINT = 'Pass 1 or more; the default is 3.';
    END IF;

    LOOP
        SELECT c.id_column, c.seq, a.attidentity = 'a' INTO v_column, v_seq, v_always
          FROM idsql.table_counter AS c
          LEFT JOIN pg_attribute AS a
            ON a.attrelid = c.table_name AND a.attname = c.id_column AND NOT a.attisdropped
         WHERE c.table_name = _insert_with_retry.tbl;
        EXIT WHEN FOUND;
        PERFORM idsql.initialize_table(_insert_with_retry.tbl);
    END LOOP;
    IF v_always IS NULL THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', v_column, _insert_with_retry.tbl
            USING ERRCODE = 'undefined_column',
                  DETAIL = 'It is the ID column the table was registered with.',
                  HINT = 'Register the table again with its ID column: initialize_table(tbl, id_column => ...).';
    END IF;

    -- Everything the statement's text depends on names it; jsonb lists an object's keys in one
    -- fixed order, so the same keys always give the same name.
    v_stmt := 'idsql_insert_' || md5(jsonb_build_array(
        _insert_with_retry.tbl::oid, _insert_with_retry.tbl::text, v_column, v_seq::text, v_always,
        jsonb_path_query_array(_insert_with_retry.data, '$.keyvalue().key'))::text);
    IF NOT EXISTS (SELECT FROM pg_prepared_statements AS p WHERE p.name = v_stmt) THEN
        SELECT string_agg(format('"%s"', k.key), ', ' ORDER BY k.key) FILTER (WHERE a.attname IS NULL),
               string_agg(format('"%s"', k.key), ', ' ORDER BY k.key) FILTER (WHERE a.attgenerated <> ''),
               string_agg(format('"%s"', k.key), ', ' ORDER BY k.key)
                   FILTER (WHERE a.attidentity = 'a' AND a.attname <> v_column),
               coalesce(bool_or(a.attname = v_column), false),
               string_agg(format(', %I', a.attname), '' ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL),
               string_agg(format(', r.%I', a.attname), '' ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL)
          INTO v_unknown, v_generated, v_identity, v_has_id, v_columns, v_values
          FROM jsonb_object_keys(_insert_with_retry.data) AS k (key)
          LEFT JOIN pg_attribute AS a
            ON a.attrelid = _insert_with_retry.tbl AND a.attname::text = k.key
           AND a.attnum > 0 AND NOT a.attisdropped;
        IF v_unknown IS NOT NULL THEN
            RAISE EXCEPTION '%', CASE WHEN strpos(v_unknown, ', ') > 0
                                      THEN format('columns %s of relation "%s" do not exist', v_unknown, _insert_with_retry.tbl)
                                      ELSE format('column %s of relation "%s" does not exist', v_unknown, _insert_with_retry.tbl)
                                 END
                USING ERRCODE = 'undefined_column',
                      DETAIL = format('Keys of data that are not columns of %s: %s.', _insert_with_retry.tbl, v_unknown),
                      HINT = 'Use the column names of the table as keys, and remove the others.';
        END IF;
        IF v_has_id THEN
            RAISE EXCEPTION 'data must not contain the ID column "%"', v_column
                USING ERRCODE = 'ID103',  -- id_in_data
                      DETAIL = 'insert_with_retry chooses the ID of every row it inserts.',
                      HINT = format('Remove "%s" from data, or insert the row with a plain INSERT if it needs that ID.',
                                    v_column);
        END IF;
        IF coalesce(v_generated, v_identity) IS NOT NULL THEN
            RAISE EXCEPTION 'cannot insert a non-DEFAULT value into column %', coalesce(v_generated, v_identity)
                USING ERRCODE = 'generated_always',
                      DETAIL = CASE WHEN v_generated IS NOT NULL THEN 'The column is a generated column.'
                                    ELSE 'The column is an identity column defined as GENERATED ALWAYS.' END,
                      HINT = 'Remove it from data: the database computes its value.';
        END IF;
        -- Loaded Citus (citus.version is its setting) may distribute any table at any time, as
        -- well after this statement is prepared; see below.
        v_citus := current_setting('citus.version', true) IS NOT NULL;
        FOR v_oldest IN
            SELECT p.name FROM pg_prepared_statements AS p
             WHERE p.name LIKE 'idsql\_insert\_%'
             ORDER BY p.prepare_time DESC, p.name DESC
            OFFSET 31
        LOOP
            EXECUTE format('DEALLOCATE %I', v_oldest);
        END LOOP;
        -- OVERRIDING SYSTEM VALUE lets the ID into a GENERATED ALWAYS identity column, and is only
        -- written then, so that PostgreSQL itself refuses any other such column. The ID is taken
        -- as next_id takes it: the sequence's value, moved on only if a row is at or above it.
        IF NOT v_citus THEN
            EXECUTE format(
                'PREPARE %1$I (jsonb) AS INSERT INTO %2$s AS t (%3$I%4$s)%5$s'
                ' SELECT CASE WHEN m.id IS NULL THEN n.v ELSE idsql._take_table_id(%6$L, m.id) END%7$s'
                ' FROM (SELECT nextval(%6$L) AS v) AS n,'
                ' LATERAL (SELECT max(%3$I) AS id FROM %2$s WHERE %3$I >= n.v) AS m,'
                ' jsonb_populate_record(NULL::%2$s, $1) AS r'
                ' ON CONFLICT (%3$I) DO NOTHING RETURNING to_jsonb(t.*)',
                v_stmt, _insert_with_retry.tbl, v_column, coalesce(v_columns, ''),
                CASE WHEN v_always THEN ' OVERRIDING SYSTEM VALUE' ELSE '' END, v_seq, coalesce(v_values, ''));
        ELSE
            -- Citus cannot push a lateral subquery over a distributed table down to the shards:
            -- there the unbounded max(id), one query of every shard.
            EXECUTE format(
                'PREPARE %1$I (jsonb) AS INSERT INTO %2$s AS t (%3$I%4$s)%5$s'
                ' SELECT idsql._take_table_id(%6$L, (SELECT max(%3$I) FROM %2$s))%7$s'
                ' FROM jsonb_populate_record(NULL::%2$s, $1) AS r'
                ' ON CONFLICT (%3$I) DO NOTHING RETURNING to_jsonb(t.*)',
                v_stmt, _insert_with_retry.tbl, v_column, coalesce(v_columns, ''),
                CASE WHEN v_always THEN ' OVERRIDING SYSTEM VALUE' ELSE '' END, v_seq, coalesce(v_values, ''));
        END IF;
    END IF;

    v_execute := format('EXECUTE %I (%L)', v_stmt, _insert_with_retry.data);
    v_taken := format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1)', _insert_with_retry.tbl, v_column);
    LOOP
        v_tries := v_tries + 1;
        EXECUTE v_execute INTO v_row;
        IF v_row IS NOT NULL THEN
            RETURN v_row;
        END IF;
        -- The statement reads max(id) itself, so its ID was above every row it could see: a
        -- conflict is a race with a writer that committed (or held, and we waited for) that very
        -- ID since. Trying further on cannot fail the same way for long, so a race does not use
        -- up an attempt (up to 64 of them: far more than any race needs); only a conflict on
        -- another ID than the one taken does (a trigger rewriting the ID), as does a race past 64.
        EXECUTE v_taken INTO v_race USING currval(v_seq);
        IF NOT v_race OR v_tries > 64 THEN
            v_attempts := v_attempts + 1;
        END IF;
        UPDATE idsql.table_counter AS c
           SET conflicts = c.conflicts + 1
         WHERE c.table_name = (SELECT k.table_name
                                 FROM idsql.table_counter AS k
                                WHERE k.table_name = _insert_with_retry.tbl
                                  FOR UPDATE SKIP LOCKED);
        EXIT WHEN v_attempts >= _insert_with_retry.retry_attempts;
        -- Explicit IDs are being written right at the head of the table, where the sequence
        -- hands out its values, and a gap costs nothing while another collision costs a try. So
        -- the n-th retry starts 4^n IDs past the taken one (currval: the ID this try took; 4, 16,
        -- 64, ..., capped well inside what _advance_sequence burns without a lock), or past
        -- max(id) by as many: writers of explicit IDs aim just above max(id), and a retry that
        -- started at max(id) + 1 met them there again.
        EXECUTE format('SELECT max(%I) FROM %s', v_column, _insert_with_retry.tbl) INTO v_max;
        PERFORM idsql._advance_sequence(
            v_seq, greatest(currval(v_seq), v_max) + (4 ^ least(v_tries, 7))::bigint - 1);
    END LOOP;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION idsql._insert_with_retry(regclass, jsonb, integer) IS
'Internal: insert_with_retry without the error: NULL when every attempt found its ID taken.';
