CREATE TABLE IF NOT EXISTS idsql.id_change_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl regclass NOT NULL,
    old_id text NOT NULL,
    new_id text NOT NULL,
    touched jsonb NOT NULL,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE idsql.id_change_log IS
'ID negotiation: one row per ID replacement, written in its transaction; listeners replay it after a disconnect.';
COMMENT ON COLUMN idsql.id_change_log.id IS 'Position in the log; the log_id of the idsql_id_changed notification.';
COMMENT ON COLUMN idsql.id_change_log.tbl IS 'The table whose key was replaced.';
COMMENT ON COLUMN idsql.id_change_log.old_id IS 'The temporary ID, as text.';
COMMENT ON COLUMN idsql.id_change_log.new_id IS 'The permanent ID, as text.';
COMMENT ON COLUMN idsql.id_change_log.touched IS 'What replace_id_everywhere() returned: rows rewritten per table.';
COMMENT ON COLUMN idsql.id_change_log.txid IS 'The transaction that made the replacement.';
COMMENT ON COLUMN idsql.id_change_log.created_at IS 'When the replacement was made.';
