CREATE OR REPLACE FUNCTION idsql.enqueue_sync(
    model_type regclass,
    model_id text,
    operation text,
    payload jsonb DEFAULT '{}',
    temporary_client_id text DEFAULT NULL
)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Queue a change of one row for the remote API and return the item's id. A
 * create of a row whose ID is temporary records it as temporary_client_id
 * unless one is given, so the item is found and rewritten when the ID is
 * replaced.
 */
DECLARE
    v_id bigint;
BEGIN
    IF enqueue_sync.operation IS NULL OR enqueue_sync.operation NOT IN ('create', 'update', 'delete') THEN
        RAISE EXCEPTION 'invalid sync operation "%"', left(coalesce(enqueue_sync.operation, 'NULL'), 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The operation is create, update or delete.',
                  HINT = 'Use create, update or delete.';
    END IF;
    INSERT INTO idsql.sync_queue (model_type, model_id, operation, payload, temporary_client_id)
    VALUES (enqueue_sync.model_type, enqueue_sync.model_id, enqueue_sync.operation,
            coalesce(enqueue_sync.payload, '{}'),
            coalesce(enqueue_sync.temporary_client_id,
                     CASE WHEN enqueue_sync.operation = 'create'
                               AND idsql.is_temp_id(enqueue_sync.model_type, enqueue_sync.model_id)
                          THEN enqueue_sync.model_id END))
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION idsql.enqueue_sync(regclass, text, text, jsonb, text) IS
'Queue a create, update or delete of one row for the remote API; return the queue item''s id.';
