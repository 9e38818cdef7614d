-- After the scripts: the caller's search_path again (see pin_search_path.sql).
DO $idsql$
BEGIN
    PERFORM pg_catalog.set_config('search_path', pg_catalog.current_setting('idsql.saved_search_path'), true);
END
$idsql$;
