-- Before any script: resolve every name the scripts leave unqualified (column defaults such as
-- now(), operators) in pg_catalog, whatever the caller's search_path puts first. The caller's
-- value is kept and put back by restore_search_path.sql, so a transaction that goes on after the
-- install (an Alembic migration, the caller's own) sees its own search_path again.
DO $idsql$
BEGIN
    PERFORM pg_catalog.set_config('idsql.saved_search_path', pg_catalog.current_setting('search_path'), true);
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
END
$idsql$;
