CREATE OR REPLACE FUNCTION idsql.is_temp_id(tbl regclass, id text)
    RETURNS boolean
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return whether id is a temporary ID for tbl: it has the shape new_temp_id()
 * gives (and offline clients copy) for the key's kind, or new_temp_id()
 * recorded it. NULL for a NULL id.
 */
DECLARE
    v_kind text;
BEGIN
    IF is_temp_id.id IS NULL THEN
        RETURN NULL;
    END IF;
    v_kind := (idsql._negotiation_key(is_temp_id.tbl)).kind;
    RETURN CASE v_kind
               WHEN 'text' THEN starts_with(is_temp_id.id, 'tmp_')
               WHEN 'integer' THEN is_temp_id.id ~ '^\s*-[0-9]+\s*$'
               ELSE lower(is_temp_id.id) ~ '^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$'
           END
        OR EXISTS (SELECT FROM idsql.temp_id AS t
                    WHERE t.tbl = is_temp_id.tbl AND t.temp_id = is_temp_id.id);
END
$$;

COMMENT ON FUNCTION idsql.is_temp_id(regclass, text) IS
'Return whether the ID is a temporary ID of the table (issued by new_temp_id or of the same shape).';
