CREATE OR REPLACE TRIGGER idsql_sync_queue_transition
BEFORE UPDATE OF id_negotiation_status ON idsql.sync_queue
FOR EACH ROW EXECUTE FUNCTION idsql.tg_sync_queue_transition();

COMMENT ON TRIGGER idsql_sync_queue_transition ON idsql.sync_queue IS
'Only legal id_negotiation_status transitions are accepted.';
