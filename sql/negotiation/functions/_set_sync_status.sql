CREATE OR REPLACE FUNCTION idsql._set_sync_status(id bigint, status text, last_error text)
    RETURNS idsql.sync_queue
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Move one queue item to status (the transition trigger refuses illegal
 * moves) and return it; last_error is kept unless a new one is given.
 */
DECLARE
    v_item idsql.sync_queue;
BEGIN
    UPDATE idsql.sync_queue AS q
       SET id_negotiation_status = _set_sync_status.status,
           last_error = coalesce(_set_sync_status.last_error, q.last_error)
     WHERE q.id = _set_sync_status.id
    RETURNING q.* INTO v_item;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no sync item %', _set_sync_status.id
            USING ERRCODE = 'ID413',  -- sync_item_not_found
                  DETAIL = 'idsql.sync_queue has no row with this id.',
                  HINT = 'Use an id that enqueue_sync() or claim_sync_batch() returned.';
    END IF;
    RETURN v_item;
END
$$;

COMMENT ON FUNCTION idsql._set_sync_status(bigint, text, text) IS
'Internal: move one sync item to a status (checked by the transition trigger) and return it.';
