CREATE TABLE IF NOT EXISTS idsql.row_version (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl regclass NOT NULL,
    key jsonb NOT NULL,
    state_version bigint,
    parent_key jsonb,
    parent_version bigint,
    root regclass NOT NULL,
    root_key jsonb NOT NULL,
    root_version bigint,
    operation text NOT NULL,
    row_data jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    key_hash bigint NOT NULL,
    parent_hash bigint,
    root_hash bigint NOT NULL
);

-- The hashes are written by the triggers' INSERT (idsql._state_version_history), and operation is
-- only ever one of the values its comment lists: generated columns and a CHECK constraint are
-- compiled again for every statement that writes the table, which cost a one-row UPDATE of a
-- table with history more than the history row itself. An install from before keeps its rows
-- and loses the generation expressions and the constraint here.
ALTER TABLE idsql.row_version ALTER COLUMN key_hash DROP EXPRESSION IF EXISTS;
ALTER TABLE idsql.row_version ALTER COLUMN parent_hash DROP EXPRESSION IF EXISTS;
ALTER TABLE idsql.row_version ALTER COLUMN root_hash DROP EXPRESSION IF EXISTS;
ALTER TABLE idsql.row_version ALTER COLUMN key_hash SET NOT NULL;
ALTER TABLE idsql.row_version ALTER COLUMN root_hash SET NOT NULL;
ALTER TABLE idsql.row_version DROP CONSTRAINT IF EXISTS row_version_operation_check;
-- Ids follow the order of writing across sessions, which for one row is the order of its versions
-- (its writers queue on its row lock): no cache, which 0.1.0 had (1000 ids per session, handed out
-- out of order between sessions). A cached id cost about 0.1 us less per history row.
ALTER TABLE idsql.row_version ALTER COLUMN id SET CACHE 1;

-- The indexes hold 64-bit hashes of the jsonb keys, not the keys: a btree on jsonb costs
-- every writer (each changed row of a bulk UPDATE) several jsonb comparisons per entry.
-- Readers match the hash through the index and then the key itself.
CREATE INDEX IF NOT EXISTS row_version_parent_idx ON idsql.row_version (tbl, parent_hash, key_hash, parent_version, id)
WHERE parent_key IS NOT NULL;
-- The rows that left a parent (deleted or moved away), by version: with the rows under it now,
-- the rows children_as_of looks up. Only departures are in it, so other writes pass it by.
CREATE INDEX IF NOT EXISTS row_version_departed_idx ON idsql.row_version (tbl, parent_hash, parent_version)
INCLUDE (key_hash) WHERE parent_key IS NOT NULL AND operation IN ('DELETE', 'MOVE');
-- Everything under a root, by table and version: what changes_between and rollback_to_version
-- read, and also how row_history finds the rows of a root table itself (their key is the root's).
CREATE INDEX IF NOT EXISTS row_version_root_tbl_idx ON idsql.row_version (root_hash, tbl, root_version);
-- The rows of tables with a parent, by key and version, for row_history and for the state of a
-- row at a version in changes_between. A root's rows are left out: the index above already finds
-- them, and one index entry less per row makes their history about a sixth cheaper to write
-- (measured on a 100,000-row UPDATE). The predicate names root and tbl, which
-- children_as_of never mentions, so that the planner cannot take this index for the parent index
-- there (it did, estimating one entry per key from the roots' statistics, and became 6x slower).
CREATE INDEX IF NOT EXISTS row_version_child_key_idx ON idsql.row_version (key_hash, root_version, id)
WHERE root <> tbl;
-- Before 0.2.0 the two indexes above were one on (root_hash, root_version) and one on every key.
DROP INDEX IF EXISTS idsql.row_version_root_idx;
DROP INDEX IF EXISTS idsql.row_version_key_idx;

COMMENT ON TABLE idsql.row_version IS
'History of the tables enabled with history => true: one row per changed row per statement, written by triggers.';
COMMENT ON COLUMN idsql.row_version.id IS
'Order of writing: the last entry of a row is its latest state (ids below history_order.cached_below only within a session).';
COMMENT ON COLUMN idsql.row_version.tbl IS 'The table of the row.';
COMMENT ON COLUMN idsql.row_version.key IS 'Primary key of the row, e.g. {"entity_id": "A"}.';
COMMENT ON COLUMN idsql.row_version.state_version IS 'The row''s own version after the change (NULL for a table without one).';
COMMENT ON COLUMN idsql.row_version.parent_key IS 'Key of the parent row the change counted for (NULL for a root).';
COMMENT ON COLUMN idsql.row_version.parent_version IS 'Version of that parent once the change counted for it.';
COMMENT ON COLUMN idsql.row_version.root IS 'The root table above the row (the row''s own table for a root).';
COMMENT ON COLUMN idsql.row_version.root_key IS 'Key of the root row above the row.';
COMMENT ON COLUMN idsql.row_version.root_version IS 'Version of the root row once the change counted for it.';
COMMENT ON COLUMN idsql.row_version.operation IS
'INSERT, UPDATE, DELETE; MOVE: the row left this parent for another; BASELINE: the row as history was enabled.';
COMMENT ON COLUMN idsql.row_version.row_data IS 'The whole row after the change (before it, for DELETE and MOVE).';
COMMENT ON COLUMN idsql.row_version.changed_at IS 'Start of the transaction that made the change.';
COMMENT ON COLUMN idsql.row_version.xid IS 'The transaction that made the change.';
COMMENT ON COLUMN idsql.row_version.key_hash IS 'jsonb_hash_extended(key, 0), for the indexes; written with the row.';
COMMENT ON COLUMN idsql.row_version.parent_hash IS
'jsonb_hash_extended(parent_key, 0), for the indexes; written with the row.';
COMMENT ON COLUMN idsql.row_version.root_hash IS 'jsonb_hash_extended(root_key, 0), for the indexes; written with the row.';
