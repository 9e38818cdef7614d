CREATE TABLE IF NOT EXISTS idsql.table_counter (
    table_name regclass PRIMARY KEY,
    id_column name NOT NULL DEFAULT 'id',
    initial_value bigint NOT NULL DEFAULT 1
        CONSTRAINT table_counter_initial_value_check CHECK (initial_value >= 1),
    seq regclass NOT NULL
        CONSTRAINT table_counter_seq_key UNIQUE,
    conflicts bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE idsql.table_counter IS
'One row per table that takes its integer IDs from idsql: its settings and the sequence behind next_id() and insert_with_retry().';
COMMENT ON COLUMN idsql.table_counter.table_name IS
'The table; regclass, so a rename or pg_dump/restore keeps the row pointing at it.';
COMMENT ON COLUMN idsql.table_counter.id_column IS
'The integer column that holds the IDs; it has a single-column unique index.';
COMMENT ON COLUMN idsql.table_counter.initial_value IS 'The first ID to issue in an empty table.';
COMMENT ON COLUMN idsql.table_counter.seq IS
'The sequence in schema idsql that issues the IDs (it holds the last one); only ever moved forward.';
COMMENT ON COLUMN idsql.table_counter.conflicts IS
'How often insert_with_retry found its ID already taken (committed calls; a count already being made by another open transaction is skipped, never waited for).';
COMMENT ON COLUMN idsql.table_counter.created_at IS 'When the table was first registered.';
COMMENT ON COLUMN idsql.table_counter.updated_at IS 'When initialize_table last registered or re-synced the table.';
