CREATE TABLE IF NOT EXISTS idsql.id_mapping (
    tbl regclass NOT NULL,
    temp_id text NOT NULL,
    permanent_id text NOT NULL,
    log_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT id_mapping_pkey PRIMARY KEY (tbl, temp_id),
    CONSTRAINT id_mapping_permanent_key UNIQUE (tbl, permanent_id)
);

COMMENT ON TABLE idsql.id_mapping IS
'ID negotiation: temporary -> permanent ID of every replacement, so late references still resolve.';
COMMENT ON COLUMN idsql.id_mapping.tbl IS 'The table whose key was replaced.';
COMMENT ON COLUMN idsql.id_mapping.temp_id IS 'The temporary ID, as text.';
COMMENT ON COLUMN idsql.id_mapping.permanent_id IS 'The permanent ID that replaced it, as text.';
COMMENT ON COLUMN idsql.id_mapping.log_id IS 'The id_change_log row of the replacement.';
COMMENT ON COLUMN idsql.id_mapping.created_at IS 'When the replacement was made.';
