CREATE OR REPLACE FUNCTION idsql.resolve_id(tbl regclass, id text)
    RETURNS text
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the permanent ID that replaced a temporary one, or the ID itself
 * (permanent IDs are never temporary, so there are no chains to follow).
 */
SELECT coalesce(
    (SELECT m.permanent_id FROM idsql.id_mapping AS m
      WHERE m.tbl = resolve_id.tbl AND m.temp_id = resolve_id.id),
    resolve_id.id
);
$$;

COMMENT ON FUNCTION idsql.resolve_id(regclass, text) IS
'Return the permanent ID for a temporary one that was replaced, the ID itself otherwise.';
