CREATE OR REPLACE FUNCTION idsql.negotiate_ids(batch jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Replace many temporary IDs in one transaction: batch is an array of
 * {"table": ..., "temp_id": ..., "new_id": ...}, new_id optional (allocated
 * from the table's generator when missing). "table" is a schema-qualified
 * name (this function's search_path is pg_catalog) or the table's oid as a
 * number, which the Python wrapper sends. Returns the array of
 * replace_id_everywhere() results, in batch order. Each replacement rewrites
 * every reference to its ID, so order does not matter: parent before child,
 * child before parent and cycles end in the same state; the replacements run
 * sorted by table and temporary ID, so concurrent batches lock alike. One NOTIFY for the
 * batch: {"txid", "count", "first_log_id", "last_log_id"}; the listener reads
 * the rows of that transaction from the change log. An error anywhere undoes
 * the whole batch.
 */
DECLARE
    v_item jsonb;
    v_tbl regclass;
    v_tbls regclass[] := '{}'::regclass[];
    v_temps text[] := '{}'::text[];
    v_news text[] := '{}'::text[];
    v_n bigint;
    v_new text;
    v_result jsonb;
    v_results jsonb[] := '{}'::jsonb[];
    v_log_ids bigint[] := '{}'::bigint[];
BEGIN
    IF jsonb_typeof(negotiate_ids.batch) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'the batch is not a JSON array'
            USING ERRCODE = 'ID414',  -- invalid_batch
                  DETAIL = format('Got %s.', coalesce(jsonb_typeof(negotiate_ids.batch), 'NULL')),
                  HINT = 'Pass [{"table": "public.project", "temp_id": "tmp_...", "new_id": "..."}, ...].';
    END IF;
    FOR v_item IN SELECT e.value FROM jsonb_array_elements(negotiate_ids.batch) AS e LOOP
        IF jsonb_typeof(v_item) IS DISTINCT FROM 'object'
           OR coalesce(jsonb_typeof(v_item -> 'table'), 'null') NOT IN ('string', 'number')
           OR jsonb_typeof(v_item -> 'temp_id') NOT IN ('string', 'number')
           OR coalesce(jsonb_typeof(v_item -> 'new_id'), 'null') NOT IN ('string', 'number', 'null') THEN
            RAISE EXCEPTION 'invalid batch entry'
                USING ERRCODE = 'ID414',  -- invalid_batch
                      DETAIL = format('Entry: %s.', left(v_item::text, 200)),
                      HINT = 'Each entry is {"table": "...", "temp_id": "...", "new_id": "..."}, new_id optional.';
        END IF;
        -- to_regclass, not ::regclass: a missing schema is then 42P01 like a missing table, not 3F000.
        v_tbl := CASE jsonb_typeof(v_item -> 'table')
                     WHEN 'number' THEN (v_item ->> 'table')::oid::regclass
                     ELSE to_regclass(v_item ->> 'table') END;
        IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = v_tbl) THEN
            RAISE EXCEPTION 'relation "%" does not exist', left(v_item ->> 'table', 200)
                USING ERRCODE = 'undefined_table',
                      DETAIL = format('Entry: %s.', left(v_item::text, 200)),
                      HINT = 'Name an existing table, schema-qualified, or give its OID.';
        END IF;
        v_tbls := v_tbls || v_tbl;
        v_temps := v_temps || (v_item ->> 'temp_id');
        v_news := v_news || (v_item ->> 'new_id');
    END LOOP;
    -- Replace in (table, temporary ID) order, so that two batches sharing IDs lock them in the
    -- same order instead of deadlocking; results come back in batch order.
    FOR v_n IN SELECT u.n FROM unnest(v_tbls, v_temps) WITH ORDINALITY AS u (tbl, temp_id, n)
                ORDER BY u.tbl::oid, u.temp_id, u.n LOOP
        v_new := v_news[v_n];
        IF v_new IS NULL THEN
            v_new := idsql._server_id_for(v_tbls[v_n], v_temps[v_n]);
        END IF;
        v_result := idsql._replace_id(v_tbls[v_n], v_temps[v_n], v_new, false);
        v_results[v_n] := v_result;
        v_log_ids := v_log_ids || (v_result ->> 'log_id')::bigint;
    END LOOP;
    IF cardinality(v_log_ids) > 0 THEN
        PERFORM pg_notify('idsql_id_changed',
                          json_build_object('txid', pg_current_xact_id()::text,
                                            'count', cardinality(v_log_ids),
                                            'first_log_id', (SELECT min(x) FROM unnest(v_log_ids) AS x),
                                            'last_log_id', (SELECT max(x) FROM unnest(v_log_ids) AS x))::text);
    END IF;
    RETURN coalesce(to_jsonb(v_results), '[]'::jsonb);
END
$$;

COMMENT ON FUNCTION idsql.negotiate_ids(jsonb) IS
'Replace many temporary IDs (with given or generated permanent IDs) in one transaction, with one NOTIFY for the batch.';
