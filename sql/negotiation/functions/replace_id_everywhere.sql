CREATE OR REPLACE FUNCTION idsql.replace_id_everywhere(tbl regclass, old_id text, new_id text)
    RETURNS jsonb
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Replace a temporary ID by a permanent one in the row, in every column that
 * references it through a foreign key, and in the sync queue; record the
 * mapping, log the change and NOTIFY idsql_id_changed (on commit). All or
 * nothing: every check runs before the first write. See _replace_id.
 */
SELECT idsql._replace_id(tbl, old_id, new_id, true);
$$;

COMMENT ON FUNCTION idsql.replace_id_everywhere(regclass, text, text) IS
'Replace a temporary ID by a permanent one in the row, every foreign key and the sync queue; log it and NOTIFY idsql_id_changed.';
