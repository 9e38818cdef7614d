CREATE TABLE IF NOT EXISTS idsql.sync_queue (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_type regclass NOT NULL,
    model_id text NOT NULL,
    temporary_client_id text
        CONSTRAINT sync_queue_temporary_client_id_key UNIQUE,
    operation text NOT NULL
        CONSTRAINT sync_queue_operation_check CHECK (operation IN ('create', 'update', 'delete')),
    payload jsonb NOT NULL DEFAULT '{}',
    id_negotiation_status text NOT NULL DEFAULT 'pending'
        CONSTRAINT sync_queue_status_check
        CHECK (id_negotiation_status IN ('pending', 'in_progress', 'complete', 'failed', 'conflict')),
    attempts integer NOT NULL DEFAULT 0
        CONSTRAINT sync_queue_attempts_check CHECK (attempts >= 0),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz
);

CREATE INDEX IF NOT EXISTS sync_queue_claim_idx ON idsql.sync_queue (id)
WHERE id_negotiation_status IN ('pending', 'failed');

CREATE INDEX IF NOT EXISTS sync_queue_model_idx ON idsql.sync_queue (model_type, model_id);

COMMENT ON TABLE idsql.sync_queue IS
'ID negotiation: changes waiting to reach the remote API; temporary IDs in it are rewritten with the rows.';
COMMENT ON COLUMN idsql.sync_queue.id IS 'Queue position: items are claimed in this order.';
COMMENT ON COLUMN idsql.sync_queue.model_type IS 'The table of the changed row.';
COMMENT ON COLUMN idsql.sync_queue.model_id IS 'The key of the changed row, as text (rewritten when the key is replaced).';
COMMENT ON COLUMN idsql.sync_queue.temporary_client_id IS
'The temporary ID a create was queued with (rewritten to the permanent ID when it is replaced).';
COMMENT ON COLUMN idsql.sync_queue.operation IS 'create, update or delete.';
COMMENT ON COLUMN idsql.sync_queue.payload IS
'What to send; string values equal to a replaced temporary ID are rewritten, substrings never.';
COMMENT ON COLUMN idsql.sync_queue.id_negotiation_status IS
'pending -> in_progress -> complete | failed | conflict; failed -> pending | in_progress; conflict -> pending.';
COMMENT ON COLUMN idsql.sync_queue.attempts IS 'How many times the item was claimed.';
COMMENT ON COLUMN idsql.sync_queue.last_error IS 'The error of the last failed attempt.';
COMMENT ON COLUMN idsql.sync_queue.created_at IS 'When the item was queued.';
COMMENT ON COLUMN idsql.sync_queue.updated_at IS 'Last status change.';
COMMENT ON COLUMN idsql.sync_queue.claimed_at IS 'When the item was last claimed.';
