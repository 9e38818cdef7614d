CREATE OR REPLACE FUNCTION idsql.assign_server_id(tbl regclass, temp_id text)
    RETURNS text
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Allocate a permanent ID from tbl's generator and replace temp_id with it
 * everywhere; return the permanent ID. A temporary ID already replaced returns
 * its permanent ID without allocating another (the temporary ID's lock is
 * taken before the lookup, so two sessions get the same answer).
 */
SELECT idsql._replace_id(tbl, temp_id, idsql._server_id_for(tbl, temp_id), true) ->> 'new_id';
$$;

COMMENT ON FUNCTION idsql.assign_server_id(regclass, text) IS
'Allocate a permanent ID from the table''s generator, replace the temporary ID everywhere with it, and return it.';
