CREATE TABLE IF NOT EXISTS idsql.id_strategy (
    tbl regclass PRIMARY KEY,
    strategy text NOT NULL DEFAULT 'client'
        CONSTRAINT id_strategy_strategy_check CHECK (strategy IN ('client', 'server')),
    generator text
        CONSTRAINT id_strategy_generator_check
        CHECK (generator IN ('default', 'uuidv7') OR generator ~ '^prefix:[A-Z_][A-Z0-9_]{0,19}$'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT id_strategy_generator_server_check CHECK ((strategy = 'server') = (generator IS NOT NULL))
);

COMMENT ON TABLE idsql.id_strategy IS
'ID negotiation: how each table gets its IDs; a table without a row uses client IDs, which never change.';
COMMENT ON COLUMN idsql.id_strategy.tbl IS 'The table whose single-column primary key is negotiated.';
COMMENT ON COLUMN idsql.id_strategy.strategy IS
'client: the client''s ID is permanent; server: temporary client IDs are replaced by server IDs.';
COMMENT ON COLUMN idsql.id_strategy.generator IS
'Where server IDs come from: prefix:INV (generate_id), default (the column default or identity), uuidv7.';
COMMENT ON COLUMN idsql.id_strategy.updated_at IS 'Last change of the strategy.';
