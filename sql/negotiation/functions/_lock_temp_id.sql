CREATE OR REPLACE FUNCTION idsql._lock_temp_id(tbl regclass, temp_id text, shared boolean)
    RETURNS void
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Take the transaction-level advisory lock of one temporary ID: exclusive
 * while it is replaced, shared by the late-reference trigger, which so waits
 * for a replacement in flight and then sees its mapping. The two-key form,
 * with a first key of its own, keeps clear of the caller's bigint locks.
 */
SELECT CASE WHEN shared
            THEN pg_advisory_xact_lock_shared(hashtext('idsql negotiation'), hashtext(tbl::oid::text || ':' || temp_id))
            ELSE pg_advisory_xact_lock(hashtext('idsql negotiation'), hashtext(tbl::oid::text || ':' || temp_id))
       END;
$$;

COMMENT ON FUNCTION idsql._lock_temp_id(regclass, text, boolean) IS
'Internal: the advisory lock that serialises replacements of one temporary ID (shared for late references).';
