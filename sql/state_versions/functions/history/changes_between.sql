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
    SET jit = off
    SET plan_cache_mode = force_custom_plan
AS $$
/*
 * What differs under one root row between two of its versions, over every
 * table with history below it (and the root itself): rows added, removed, or
 * changed with the list of columns that differ. Bookkeeping columns (the
 * version column, created_at, updated_at) never count, so a parent whose
 * version moved only because a child changed does not appear.
 *
 * Only a row with an entry between the two versions can differ, so the work
 * follows the changes, not the length of the history: the entries between
 * the versions give each such row's state at the later one, and one index
 * probe per row its state at the earlier one (its last entry at or before it).
 * The rows come out ordered by table and key.
 *
 * jit is off: the planner prices each probe at a scan of the row's whole
 * history, so a diff of a thousand rows passes jit_above_cost, and compiling
 * took longer than the query (about 30 of 70 ms for the last version of
 * 1,000 entities x 100 versions).
 *
 * Planned for its arguments at every call (plan_cache_mode): from the sixth
 * call of a session PL/pgSQL may keep a generic plan, and one, priced without
 * the root's key, probed each row's earlier state through the root index,
 * reading the root's whole history per row (a diff of 10,000 rows took 18 s
 * instead of 0.2). Planning costs about 1 ms.
 */
DECLARE
    v_lo bigint := least(changes_between.from_version, changes_between.to_version);
    v_hi bigint := greatest(changes_between.from_version, changes_between.to_version);
    v_hash bigint := jsonb_hash_extended(changes_between.root_key, 0);
BEGIN
    PERFORM idsql._state_version_config(changes_between.root);
    IF changes_between.root_key IS NULL OR changes_between.from_version IS NULL
       OR changes_between.to_version IS NULL THEN
        RAISE EXCEPTION 'root_key, from_version and to_version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the root''s key as jsonb and two versions, for example 2 and 4.';
    END IF;
    RETURN QUERY
        WITH hi AS (
            -- The last entry of each row changed after the earlier version, up to the later one.
            -- Sorted by the key's hash first: a row may have many entries in the range, and two
            -- hashes compare far faster than two jsonb keys. The rows found are sorted by key once,
            -- at the end (sorting every entry by key instead made a diff of 1,000 rows over 100
            -- versions half as slow again).
            SELECT DISTINCT ON (h.tbl, h.key_hash, h.key) h.tbl, h.key_hash, h.key, h.operation, h.row_data
              FROM idsql.row_version AS h
             WHERE h.root_hash = v_hash AND h.root = changes_between.root AND h.root_key = changes_between.root_key
               AND h.root_version > v_lo AND h.root_version <= v_hi
             ORDER BY h.tbl, h.key_hash, h.key, h.root_version DESC, h.id DESC
        ),
        lo AS (
            -- The same rows at the earlier version, by one probe each: the root's own row through
            -- the root index, the others through the key index (see idsql.row_version). A DELETE
            -- or MOVE entry, or none, means the row was not there.
            SELECT hi.tbl, hi.key,
                   CASE WHEN hi.operation NOT IN ('DELETE', 'MOVE') THEN hi.row_data END AS hi_data,
                   CASE WHEN l.operation NOT IN ('DELETE', 'MOVE') THEN l.row_data END AS lo_data
              FROM hi
              LEFT JOIN LATERAL (
                   -- One arm at most finds a row, so the outer ORDER BY and the root arm's
                   -- redundant root = tbl change no result; they are for the plan. Without them
                   -- the planner fetched each row's whole history and sorted it (15 ms became
                   -- 115 ms for the last version of 1,000 entities x 100 versions); with them it
                   -- merges the arms in order and walks the key index backwards to one entry.
                   SELECT e.operation, e.row_data
                     FROM ((SELECT r.id, r.root_version, r.operation, r.row_data
                              FROM idsql.row_version AS r
                             WHERE hi.tbl <> changes_between.root
                               AND r.key_hash = hi.key_hash AND r.root <> r.tbl AND r.root_version <= v_lo
                               AND r.tbl = hi.tbl AND r.key = hi.key AND r.root_hash = v_hash
                               AND r.root = changes_between.root AND r.root_key = changes_between.root_key
                             ORDER BY r.root_version DESC, r.id DESC
                             LIMIT 1)
                           UNION ALL
                           (SELECT r.id, r.root_version, r.operation, r.row_data
                              FROM idsql.row_version AS r
                             WHERE hi.tbl = changes_between.root
                               AND r.root_hash = v_hash AND r.tbl = hi.tbl AND r.root_version <= v_lo
                               AND r.root = r.tbl AND r.key = hi.key
                               AND r.root = changes_between.root AND r.root_key = changes_between.root_key
                             ORDER BY r.root_version DESC, r.id DESC
                             LIMIT 1)) AS e
                    ORDER BY e.root_version DESC, e.id DESC
                    LIMIT 1) AS l ON true
        ),
        -- Each side as the caller ordered the versions. Materialized: the outer query reads each
        -- side several times, and inlined, every read would evaluate its CASE again.
        f AS MATERIALIZED (
            SELECT lo.tbl, lo.key,
                   CASE WHEN changes_between.from_version = v_lo THEN lo.lo_data ELSE lo.hi_data END AS old_data,
                   CASE WHEN changes_between.from_version = v_lo THEN lo.hi_data ELSE lo.lo_data END AS new_data
              FROM lo
        ),
        -- Once per table (materialized, so never again per row): its bookkeeping columns (bk), the
        -- others by name (data), and all of them (the keys of every row written since the table's
        -- columns last changed).
        t AS MATERIALIZED (
            SELECT c.tbl, b.bk, d.data, b.bk || d.data AS cols
              FROM (SELECT DISTINCT f.tbl FROM f) AS u
              JOIN idsql.state_version_table AS c ON c.tbl = u.tbl
             CROSS JOIN LATERAL (SELECT idsql._state_version_bookkeeping(c) AS bk) AS b
             CROSS JOIN LATERAL (
                   SELECT ARRAY(SELECT a.attname::text FROM pg_attribute AS a
                                 WHERE a.attrelid = c.tbl AND a.attnum > 0 AND NOT a.attisdropped
                                   AND a.attname::text <> ALL (b.bk)
                                 ORDER BY a.attname::text COLLATE "default") AS data
                  ) AS d
        )
        -- The columns that differ, found once per row (OFFSET 0 keeps the subquery from being
        -- pulled up and evaluated again in the WHERE clause): a row whose only differences are
        -- bookkeeping has none, and is no change. When neither side has a key outside the table's
        -- columns, the columns are the table's, already in order; a row from before a column was
        -- dropped or renamed takes the keys of both sides. The first way costs half the second:
        -- jsonb_object_keys() and (||) each build a value per row, and every row is sorted.
        -- unnest() yields the elements in the array's order, and a filter keeps it.
        SELECT f.tbl, f.key,
               CASE WHEN f.old_data IS NULL THEN 'added' WHEN f.new_data IS NULL THEN 'removed' ELSE 'changed' END,
               f.old_data, f.new_data, d.fields
          FROM f
          JOIN t ON t.tbl = f.tbl
         CROSS JOIN LATERAL (
               SELECT CASE WHEN f.old_data IS NULL OR f.new_data IS NULL THEN NULL
                           WHEN (f.old_data - t.cols) = '{}'::jsonb AND (f.new_data - t.cols) = '{}'::jsonb THEN
                               ARRAY(SELECT k.k FROM unnest(t.data) AS k (k)
                                      WHERE (f.old_data -> k.k) IS DISTINCT FROM (f.new_data -> k.k))
                           ELSE
                               ARRAY(SELECT k.k FROM jsonb_object_keys((f.old_data || f.new_data) - t.bk) AS k (k)
                                      WHERE (f.old_data -> k.k) IS DISTINCT FROM (f.new_data -> k.k)
                                      ORDER BY k.k)
                      END AS fields
               OFFSET 0) AS d
         WHERE (f.old_data IS NOT NULL OR f.new_data IS NOT NULL)
           AND (d.fields IS NULL OR d.fields <> '{}')
         ORDER BY f.tbl::oid, f.key;
END
$$;

COMMENT ON FUNCTION idsql.changes_between(regclass, jsonb, bigint, bigint) IS
'Rows added, removed or changed (with the columns that differ) under one root between two of its versions.';
