-- Re-running the script is normal: keep "already exists, skipping" notices quiet.
SET LOCAL client_min_messages = warning;

-- Serialise concurrent installs: CREATE OR REPLACE on the same function from two
-- sessions fails with "tuple concurrently updated".
DO $$
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('idsql install'));
END
$$;

CREATE SCHEMA IF NOT EXISTS idsql;

COMMENT ON SCHEMA idsql IS
'pyidsql: ID logic kept inside PostgreSQL (prefixed IDs, table IDs, sequence repair, state versions, ID negotiation).';
