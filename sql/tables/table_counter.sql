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

-- An install from before the sequences kept the last ID issued in a column last_value: give each
-- counter its sequence at that value, then drop the column. Does nothing on a current install.
ALTER TABLE idsql.table_counter ADD COLUMN IF NOT EXISTS seq regclass;
DO $$
DECLARE
    v_table regclass;
    v_last bigint;
    v_seq regclass;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS a
                    WHERE a.attrelid = 'idsql.table_counter'::pg_catalog.regclass
                      AND a.attname = 'last_value' AND NOT a.attisdropped) THEN
        RETURN;
    END IF;
    FOR v_table, v_last IN EXECUTE 'SELECT table_name, last_value FROM idsql.table_counter WHERE seq IS NULL' LOOP
        EXECUTE pg_catalog.format('CREATE SEQUENCE IF NOT EXISTS idsql.%I AS bigint MINVALUE 1 START 1 NO CYCLE',
                                  pg_catalog.format('table_%s_seq', v_table::pg_catalog.oid));
        v_seq := pg_catalog.to_regclass(pg_catalog.format('idsql.table_%s_seq', v_table::pg_catalog.oid));
        PERFORM pg_catalog.setval(v_seq, GREATEST(v_last, 1), v_last >= 1);
        EXECUTE pg_catalog.format('COMMENT ON SEQUENCE %s IS %L', v_seq,
                                  pg_catalog.format('IDs of table %s (see idsql.table_counter).', v_table));
        UPDATE idsql.table_counter AS c SET seq = v_seq WHERE c.table_name = v_table;
    END LOOP;
    ALTER TABLE idsql.table_counter DROP COLUMN last_value;
    ALTER TABLE idsql.table_counter ALTER COLUMN seq SET NOT NULL;
    ALTER TABLE idsql.table_counter ADD CONSTRAINT table_counter_seq_key UNIQUE (seq);
END
$$;

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
