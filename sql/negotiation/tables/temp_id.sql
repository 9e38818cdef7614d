CREATE TABLE IF NOT EXISTS idsql.temp_id (
    tbl regclass NOT NULL,
    temp_id text NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT temp_id_pkey PRIMARY KEY (tbl, temp_id)
);

COMMENT ON TABLE idsql.temp_id IS
'ID negotiation: every temporary ID new_temp_id() issued, so is_temp_id() knows it.';
COMMENT ON COLUMN idsql.temp_id.tbl IS 'The table the temporary ID was issued for.';
COMMENT ON COLUMN idsql.temp_id.temp_id IS 'The temporary ID, as text.';
COMMENT ON COLUMN idsql.temp_id.issued_at IS 'When it was issued.';
