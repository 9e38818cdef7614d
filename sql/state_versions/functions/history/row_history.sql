CREATE OR REPLACE FUNCTION idsql.row_history(tbl regclass, key jsonb)
    RETURNS TABLE (
        state_version bigint,
        root_version bigint,
        operation text,
        row_data jsonb,
        changed_at timestamptz
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Every version of one row, oldest first: the last entry each transaction
 * wrote for it (a transaction that changed the row twice committed one
 * version). MOVE entries, which say the row left a parent, are left out: the
 * same transaction recorded the row under its new parent. Ordered by id, the
 * order of writing: the writers of one row queue on its row lock, and a row
 * moved with its parent is written under the parent's lock. Not by version:
 * a row deleted and inserted again starts at version 1, and a row without a
 * version column has only its root's, which moving to another root resets.
 * Entries written by 0.1.0 (ids below history_order.cached_below),
 * whose ids were cached per session, come first and in 0.1.0's order.
 */
DECLARE
    v_first bigint := coalesce((SELECT o.cached_below FROM idsql.history_order AS o), 0);
BEGIN
    PERFORM idsql._state_version_config(row_history.tbl, true);
    IF row_history.key IS NULL THEN
        RAISE EXCEPTION 'key is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the primary key as jsonb, for example ''{"entity_id": "A"}''.';
    END IF;
    RETURN QUERY
        SELECT v.state_version, v.root_version, v.operation, v.row_data, v.changed_at
          FROM (SELECT DISTINCT ON (h.xid) h.id, h.state_version, h.root_version, h.operation, h.row_data, h.changed_at
                  FROM (-- Recorded with a parent: through the index of keys.
                        SELECT r.* FROM idsql.row_version AS r
                         WHERE r.key_hash = jsonb_hash_extended(row_history.key, 0) AND r.root <> r.tbl
                           AND r.tbl = row_history.tbl AND r.key = row_history.key
                        UNION ALL
                        -- Recorded as a root (the table may have had no parent then): its key is the root's.
                        SELECT r.* FROM idsql.row_version AS r
                         WHERE r.root_hash = jsonb_hash_extended(row_history.key, 0) AND r.tbl = row_history.tbl
                           AND r.root = r.tbl AND r.key = row_history.key) AS h
                 WHERE h.operation <> 'MOVE'
                 ORDER BY h.xid, h.id DESC) AS v
         ORDER BY v.id >= v_first,
                  CASE WHEN v.id < v_first THEN coalesce(v.state_version, v.root_version) END,
                  CASE WHEN v.id < v_first THEN v.root_version END,
                  v.id;
END
$$;

COMMENT ON FUNCTION idsql.row_history(regclass, jsonb) IS
'Every committed version of one row of a table with history, oldest first.';

CREATE OR REPLACE FUNCTION idsql.row_history(tbl regclass, key jsonb, as_of timestamptz)
    RETURNS TABLE (
        state_version bigint,
        root_version bigint,
        operation text,
        row_data jsonb,
        changed_at timestamptz
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The versions of one row up to a time, oldest first: those of
 * row_history(tbl, key) before the first one whose transaction began after
 * as_of. The last is the row as it was at that time (a DELETE: it was gone).
 * A version counts from the start of its transaction, its changed_at. The
 * writers of one row queue on its row lock, so its versions are in the
 * order of their commits: every version committed by as_of is in, and
 * everything from the first transaction that began after it is out. A
 * version whose transaction began before as_of and committed after it is
 * in, unless a later-begun one came first: its row was written then.
 */
BEGIN
    IF row_history.as_of IS NULL THEN
        RAISE EXCEPTION 'as_of is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a timestamp, for example now() - interval ''1 day''; row_history(tbl, key) reads every version.';
    END IF;
    RETURN QUERY
        SELECT v.state_version, v.root_version, v.operation, v.row_data, v.changed_at
          FROM (SELECT h.*, bool_or(h.changed_at > row_history.as_of) OVER (ORDER BY h.n) AS later
                  FROM idsql.row_history(row_history.tbl, row_history.key)
                       WITH ORDINALITY AS h (state_version, root_version, operation, row_data, changed_at, n)) AS v
         WHERE NOT v.later
         ORDER BY v.n;
END
$$;

COMMENT ON FUNCTION idsql.row_history(regclass, jsonb, timestamptz) IS
'The committed versions of one row up to a time, oldest first: the last is the row as it was then.';
