-- A no-op UPDATE of a row under state versions is written unchanged, so that the statement
-- reports it (UPDATE n, RETURNING) as PostgreSQL does without triggers. The row then carries the
-- current transaction's xmin, which is how the row trigger tells a row this transaction already
-- counted: a row written unchanged and not counted yet is marked here until the transaction ends,
-- and the row trigger takes the mark back when it counts the row after all. Unlogged and left out
-- of dumps: a mark means nothing outside its transaction, and one restored into another cluster
-- would carry an xid of that cluster. Rows of finished transactions are garbage, collected by
-- _state_version_noop.
CREATE UNLOGGED TABLE IF NOT EXISTS idsql.state_version_noop (
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    tbl oid NOT NULL,
    key jsonb NOT NULL,
    PRIMARY KEY (xid, tbl, key)
);

COMMENT ON TABLE idsql.state_version_noop IS
'Rows of tables under state versions written unchanged by a no-op UPDATE, not counted yet in their (running) transaction.';
COMMENT ON COLUMN idsql.state_version_noop.xid IS 'The top-level transaction that wrote the row unchanged.';
COMMENT ON COLUMN idsql.state_version_noop.tbl IS 'OID of the tracked table.';
COMMENT ON COLUMN idsql.state_version_noop.key IS 'Primary key of the row, as jsonb.';
