CREATE OR REPLACE FUNCTION idsql.complete_sync(id bigint, server_id text DEFAULT NULL)
    RETURNS idsql.sync_queue
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Mark a claimed item complete and return it. With server_id (the ID the
 * remote API gave a created row), first replace the item's temporary ID with
 * it everywhere, in the same transaction: the row, its references, the queue
 * and the mapping move together, or not at all.
 */
DECLARE
    v_item idsql.sync_queue;
BEGIN
    IF complete_sync.server_id IS NOT NULL THEN
        SELECT q.* INTO v_item FROM idsql.sync_queue AS q WHERE q.id = complete_sync.id;
        IF FOUND AND v_item.temporary_client_id IS NOT NULL THEN
            PERFORM idsql.replace_id_everywhere(v_item.model_type, v_item.temporary_client_id,
                                                complete_sync.server_id);
        END IF;
    END IF;
    RETURN idsql._set_sync_status(complete_sync.id, 'complete', NULL);
END
$$;

COMMENT ON FUNCTION idsql.complete_sync(bigint, text) IS
'Mark a claimed sync item complete; with server_id, first replace its temporary ID with it everywhere.';
