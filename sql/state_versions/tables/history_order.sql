-- Kept apart from idsql.installation, which each install script writes itself and a dump leaves
-- out: this row exists only in a database upgraded from 0.1.0, and must survive a dump and restore
-- of the extension (the epilogue registers every table but installation for pg_dump).
CREATE TABLE IF NOT EXISTS idsql.history_order (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT history_order_singleton_check CHECK (singleton),
    cached_below bigint NOT NULL
);

COMMENT ON TABLE idsql.history_order IS
'One row in a database upgraded from 0.1.0, none otherwise: where the ids of idsql.row_version start to follow the order of writing.';
COMMENT ON COLUMN idsql.history_order.singleton IS 'Always true: keeps the table to one row.';
COMMENT ON COLUMN idsql.history_order.cached_below IS
'Ids of idsql.row_version below this were cached per session by 0.1.0, so out of the order of writing between sessions (see row_history).';
