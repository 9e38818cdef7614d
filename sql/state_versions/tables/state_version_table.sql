CREATE TABLE IF NOT EXISTS idsql.state_version_table (
    tbl regclass PRIMARY KEY,
    version_column name,
    parent regclass,
    parent_fk name,
    fk_columns name[] NOT NULL DEFAULT '{}',
    parent_columns name[] NOT NULL DEFAULT '{}',
    key_columns name[] NOT NULL,
    created_column name,
    updated_column name,
    history boolean NOT NULL DEFAULT false,
    enabled boolean NOT NULL DEFAULT true,
    row_function name,
    enabled_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT state_version_table_parent_check CHECK ((parent IS NULL) = (parent_fk IS NULL)),
    CONSTRAINT state_version_table_versioned_check CHECK (version_column IS NOT NULL OR parent IS NOT NULL)
);

COMMENT ON TABLE idsql.state_version_table IS
'One row per table enabled with enable_state_version(): its version column, parent and history setting.';
COMMENT ON COLUMN idsql.state_version_table.tbl IS 'The tracked table.';
COMMENT ON COLUMN idsql.state_version_table.version_column IS
'Its own version column (bigint, starts at 1); NULL when its changes only count for its parent.';
COMMENT ON COLUMN idsql.state_version_table.parent IS 'The tracked table its changes count for, or NULL for a root.';
COMMENT ON COLUMN idsql.state_version_table.parent_fk IS 'The foreign key constraint that points at the parent.';
COMMENT ON COLUMN idsql.state_version_table.fk_columns IS 'Columns of the foreign key, in this table.';
COMMENT ON COLUMN idsql.state_version_table.parent_columns IS 'Columns of the parent the foreign key references, same order.';
COMMENT ON COLUMN idsql.state_version_table.key_columns IS 'Primary key columns: the key of a row in its history.';
COMMENT ON COLUMN idsql.state_version_table.created_column IS 'created_at when the table has it: set on INSERT, kept on UPDATE.';
COMMENT ON COLUMN idsql.state_version_table.updated_column IS 'updated_at when the table has it: set on every counted change.';
COMMENT ON COLUMN idsql.state_version_table.history IS 'Whether every committed version of each row is kept in idsql.row_version.';
COMMENT ON COLUMN idsql.state_version_table.enabled IS 'False after disable_state_version(): triggers removed, history kept.';
COMMENT ON COLUMN idsql.state_version_table.row_function IS
'The per-table row trigger function enable_state_version() generated in idsql, if any.';
COMMENT ON COLUMN idsql.state_version_table.enabled_at IS 'When enable_state_version() last ran for the table.';
