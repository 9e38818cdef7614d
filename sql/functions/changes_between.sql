CREATE OR REPLACE FUNCTION idsql.changes_between(
    root regclass, root_key jsonb, from_version bigint, to_version bigint
)
    RETURNS TABLE (
        table_name regclass,
        key jsonb,
        change text,
        old_data jsonb,
        new_data jsonb,
        changed_fields text[]
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * What differs under one root row between two of its versions, over every
 * table with history below it (and the root itself): rows added, removed, or
 * changed with the list of columns that differ. Bookkeeping columns (the
 * version column, created_at, updated_at) never count, so a parent whose
 * version moved only because a child changed does not appear.
 */
BEGIN
    PERFORM idsql._state_version_config(changes_between.root);
    IF changes_between.root_key IS NULL OR changes_between.from_version IS NULL
       OR changes_between.to_version IS NULL THEN
        RAISE EXCEPTION 'root_key, from_version and to_version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the root''s key as jsonb and two versions, for example 2 and 4.';
    END IF;
    RETURN QUERY
        WITH h AS (
            SELECT r.id, r.tbl, r.key, r.key_hash, r.root_version, r.operation, r.row_data
              FROM idsql.row_version AS r
             WHERE r.root_hash = jsonb_hash_extended(changes_between.root_key, 0)
               AND r.root = changes_between.root AND r.root_key = changes_between.root_key
               AND r.root_version <= greatest(changes_between.from_version, changes_between.to_version)
        ),
        -- The last entry of each row at each version; a DELETE or MOVE entry means absent.
        a AS (
            SELECT DISTINCT ON (h.tbl, h.key_hash, h.key) h.tbl, h.key_hash, h.key, h.operation, h.row_data
              FROM h WHERE h.root_version <= changes_between.from_version
             ORDER BY h.tbl, h.key_hash, h.key, h.root_version DESC, h.id DESC
        ),
        b AS (
            SELECT DISTINCT ON (h.tbl, h.key_hash, h.key) h.tbl, h.key_hash, h.key, h.operation, h.row_data
              FROM h WHERE h.root_version <= changes_between.to_version
             ORDER BY h.tbl, h.key_hash, h.key, h.root_version DESC, h.id DESC
        ),
        a_live AS (SELECT a.* FROM a WHERE a.operation NOT IN ('DELETE', 'MOVE')),
        b_live AS (SELECT b.* FROM b WHERE b.operation NOT IN ('DELETE', 'MOVE')),
        d AS (
            SELECT coalesce(a_live.tbl, b_live.tbl) AS tbl, coalesce(a_live.key, b_live.key) AS key,
                   a_live.row_data AS old_data, b_live.row_data AS new_data
              FROM a_live FULL JOIN b_live
                ON (a_live.tbl, a_live.key_hash, a_live.key) = (b_live.tbl, b_live.key_hash, b_live.key)
        ),
        f AS (
            SELECT d.*,
                   array_remove(ARRAY[c.version_column, c.created_column, c.updated_column], NULL)::text[] AS bk
              FROM d JOIN idsql.state_version_table AS c ON c.tbl = d.tbl
        )
        SELECT f.tbl, f.key,
               CASE WHEN f.old_data IS NULL THEN 'added' WHEN f.new_data IS NULL THEN 'removed' ELSE 'changed' END,
               f.old_data, f.new_data,
               CASE WHEN f.old_data IS NOT NULL AND f.new_data IS NOT NULL THEN
                   ARRAY(SELECT k.k FROM (SELECT jsonb_object_keys(f.old_data - f.bk)
                                          UNION SELECT jsonb_object_keys(f.new_data - f.bk)) AS k (k)
                          WHERE (f.old_data -> k.k) IS DISTINCT FROM (f.new_data -> k.k)
                          ORDER BY k.k)
               END
          FROM f
         WHERE f.old_data IS NULL OR f.new_data IS NULL OR (f.old_data - f.bk) <> (f.new_data - f.bk)
         ORDER BY f.tbl::oid, f.key;
END
$$;

COMMENT ON FUNCTION idsql.changes_between(regclass, jsonb, bigint, bigint) IS
'Rows added, removed or changed (with the columns that differ) under one root between two of its versions.';
