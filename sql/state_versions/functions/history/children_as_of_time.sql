CREATE OR REPLACE FUNCTION idsql.children_as_of_time(tbl regclass, parent_key jsonb, as_of timestamptz)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The rows of tbl under one parent as they were at a time: children_as_of at
 * the parent's last version before the first one whose transaction began
 * after as_of. So the answer is always a state the parent had, one version,
 * never a mix. Every change that counted for the parent and committed by
 * as_of is in: the transactions that count for a parent queue on its row
 * lock, so its versions are in the order of their commits, and one that began
 * after as_of committed after every version before it. The versions are read
 * from the parent's own history when its table keeps one and it covers
 * as_of, so that a version that changed only the parent (or another child
 * table) also closes the cut; otherwise from this table's entries under the
 * parent as well.
 *
 * Not an overload of children_as_of: with the same arity, a call whose third
 * argument has no type yet (a string literal, a parameter sent untyped)
 * would match both and fail as not unique.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(children_as_of_time.tbl, true);
    v_parent bigint := jsonb_hash_extended(children_as_of_time.parent_key, 0);
    v_cut bigint;
    v_complete boolean;
BEGIN
    IF v_cfg.parent IS NULL THEN
        RAISE EXCEPTION '% has no parent', children_as_of_time.tbl
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Read the children of a parent: pass the child table, the parent''s key and a time.';
    END IF;
    IF children_as_of_time.parent_key IS NULL OR children_as_of_time.as_of IS NULL THEN
        RAISE EXCEPTION '% is NULL', CASE WHEN children_as_of_time.parent_key IS NULL THEN 'parent_key'
                                          ELSE 'as_of' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the parent''s key as jsonb and a timestamp.';
    END IF;
    IF (idsql._state_version_config(v_cfg.parent)).history THEN
        -- The parent's own history has an entry per version of it (a DELETE repeats the last).
        -- When it holds every version below the first that began after as_of, the cut is read
        -- from those few entries alone: its first entry is the row's first version or began by
        -- as_of, and the versions below the cut follow one another, each once.
        WITH h AS (
            SELECT h.*
              FROM idsql.row_history(v_cfg.parent, children_as_of_time.parent_key)
                   WITH ORDINALITY AS h (state_version, root_version, operation, row_data, changed_at, n)
        ), c AS (
            SELECT min(h.state_version) FILTER (WHERE h.changed_at > children_as_of_time.as_of) AS cut FROM h
        ), below AS (
            SELECT h.* FROM h, c WHERE h.operation <> 'DELETE' AND (h.state_version < c.cut OR c.cut IS NULL)
        )
        SELECT c.cut,
               EXISTS (SELECT FROM h WHERE h.n = 1 AND (h.state_version = 1 OR h.changed_at <= children_as_of_time.as_of))
               AND (SELECT count(*) = count(DISTINCT b.state_version)
                           AND count(*) = coalesce(max(b.state_version) - min(b.state_version) + 1, 0)
                      FROM below AS b)
          INTO v_cut, v_complete
          FROM c;
    END IF;
    IF NOT coalesce(v_complete, false) THEN
        -- Otherwise from every entry of this table under the parent as well.
        v_cut := least(v_cut, (SELECT min(h.parent_version) FROM idsql.row_version AS h
                                WHERE h.tbl = children_as_of_time.tbl AND h.parent_hash = v_parent
                                  AND h.parent_key IS NOT NULL AND h.parent_key = children_as_of_time.parent_key
                                  AND h.changed_at > children_as_of_time.as_of));
    END IF;
    RETURN QUERY
        SELECT r FROM idsql.children_as_of(children_as_of_time.tbl, children_as_of_time.parent_key,
                                           coalesce(v_cut - 1, 9223372036854775807)) AS r;
END
$$;

COMMENT ON FUNCTION idsql.children_as_of_time(regclass, jsonb, timestamptz) IS
'The rows of a table under one parent as they were at a time: one version of the parent, never a mix (jsonb, by key).';
