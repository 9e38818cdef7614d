-- First statement of the extension's install scripts: a plain install of idsql cannot become an
-- extension in place, and CREATE EXTENSION would otherwise fail on its first table.
DO $idsql$
BEGIN
    IF pg_catalog.to_regclass('idsql.installation') IS NOT NULL THEN
        RAISE EXCEPTION 'idsql is already installed in schema idsql, not as an extension'
            USING ERRCODE = 'ID902',  -- channel_mismatch
                  DETAIL = 'It was installed by pyidsql install, Alembic or psql, whose objects the extension cannot adopt.',
                  HINT = 'Keep upgrading it the way it was installed, or uninstall it (pyidsql uninstall) before CREATE EXTENSION idsql.';
    END IF;
    -- On a Citus cluster, CREATE EXTENSION runs on every worker too: each would get its own counters.
    IF EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'idsql cannot be an extension on a Citus cluster'
            USING ERRCODE = 'ID902',  -- channel_mismatch
                  DETAIL = 'Citus creates an extension on every node, so each worker would keep counters of its own.',
                  HINT = 'Install with pyidsql install on the coordinator: the state stays there and the workers refuse, naming it (docs/citus.md).';
    END IF;
END
$idsql$;
