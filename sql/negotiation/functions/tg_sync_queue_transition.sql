CREATE OR REPLACE FUNCTION idsql.tg_sync_queue_transition()
    RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * BEFORE UPDATE OF id_negotiation_status on idsql.sync_queue: accept only the
 * legal moves, whoever makes them (the queue functions or a hand-written
 * UPDATE), and stamp updated_at:
 *   pending     -> in_progress, conflict
 *   in_progress -> complete, failed, conflict, pending (released unfinished)
 *   failed      -> pending, in_progress (retried)
 *   conflict    -> pending (resolved)
 *   complete    -> nothing
 */
BEGIN
    IF NEW.id_negotiation_status IS DISTINCT FROM OLD.id_negotiation_status THEN
        IF NOT (OLD.id_negotiation_status, NEW.id_negotiation_status) IN (
                ('pending', 'in_progress'), ('pending', 'conflict'),
                ('in_progress', 'complete'), ('in_progress', 'failed'),
                ('in_progress', 'conflict'), ('in_progress', 'pending'),
                ('failed', 'pending'), ('failed', 'in_progress'),
                ('conflict', 'pending')) THEN
            RAISE EXCEPTION 'sync item % cannot go from % to %',
                            OLD.id, OLD.id_negotiation_status, NEW.id_negotiation_status
                USING ERRCODE = 'ID412',  -- invalid_status_transition
                      DETAIL = format('Allowed from %s: %s.', OLD.id_negotiation_status,
                                      CASE OLD.id_negotiation_status
                                          WHEN 'pending' THEN 'in_progress, conflict'
                                          WHEN 'in_progress' THEN 'complete, failed, conflict, pending'
                                          WHEN 'failed' THEN 'pending, in_progress'
                                          WHEN 'conflict' THEN 'pending'
                                          ELSE 'nothing' END),
                      HINT = 'Claim items with claim_sync_batch(), then call complete_sync() or fail_sync().';
        END IF;
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION idsql.tg_sync_queue_transition() IS
'Trigger function: refuse illegal id_negotiation_status changes on idsql.sync_queue and stamp updated_at.';
