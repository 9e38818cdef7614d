CREATE OR REPLACE FUNCTION idsql.claim_sync_batch(n integer, max_attempts integer DEFAULT 5)
    RETURNS SETOF idsql.sync_queue
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Claim up to n queue items, oldest first: pending ones and failed ones with
 * fewer than max_attempts attempts. FOR UPDATE SKIP LOCKED lets several
 * workers claim at once without waiting for or taking each other's items.
 * Claimed items are in_progress, attempts + 1, until complete_sync() or
 * fail_sync(); a worker that dies leaves them in_progress once its claim
 * commits, so claim in the transaction that does the work, or release them.
 */
WITH picked AS (
    SELECT q.id
      FROM idsql.sync_queue AS q
     WHERE q.id_negotiation_status = 'pending'
        OR q.id_negotiation_status = 'failed' AND q.attempts < claim_sync_batch.max_attempts
     ORDER BY q.id
     LIMIT greatest(claim_sync_batch.n, 0)
       FOR UPDATE SKIP LOCKED
)
UPDATE idsql.sync_queue AS q
   SET id_negotiation_status = 'in_progress',
       attempts = q.attempts + 1,
       claimed_at = now()
  FROM picked AS p
 WHERE q.id = p.id
RETURNING q.*;
$$;

COMMENT ON FUNCTION idsql.claim_sync_batch(integer, integer) IS
'Claim up to n pending (or retryable failed) sync items, oldest first, with FOR UPDATE SKIP LOCKED; mark them in_progress.';
