CREATE OR REPLACE FUNCTION idsql.fail_sync(id bigint, error text, conflict boolean DEFAULT false)
    RETURNS idsql.sync_queue
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Record a failed attempt of a claimed item and return it: status failed
 * (claimed again by claim_sync_batch until max_attempts), or conflict when
 * the remote API refused the change itself (left for a person or a resolver
 * to move back to pending).
 */
SELECT idsql._set_sync_status(id, CASE WHEN conflict THEN 'conflict' ELSE 'failed' END,
                              coalesce(error, 'unknown error'));
$$;

COMMENT ON FUNCTION idsql.fail_sync(bigint, text, boolean) IS
'Record a failed attempt of a claimed sync item (failed, retried later; or conflict) with its error.';
