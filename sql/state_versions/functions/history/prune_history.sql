CREATE OR REPLACE FUNCTION idsql.prune_history(root regclass, keep_versions integer DEFAULT 100)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Drop history older than the last keep_versions versions of each root row
 * of a root table. Of the entries at or before the cut, the last one of each
 * row stays (unless it is a deletion or a move away): it is that row's state
 * through the first kept versions, so as-of reads, diffs and rollbacks keep
 * working for every kept version. Returns the number of entries removed.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(prune_history.root);
    v_removed bigint;
BEGIN
    IF v_cfg.parent IS NOT NULL THEN
        RAISE EXCEPTION '% is not a root', prune_history.root
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Prune the root above it, %s.', idsql._state_version_root_table(prune_history.root));
    END IF;
    IF prune_history.keep_versions IS NULL OR prune_history.keep_versions < 1 THEN
        RAISE EXCEPTION 'keep_versions must be at least 1, not %', coalesce(prune_history.keep_versions::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep at least the current version, for example keep_versions => 100.';
    END IF;
    WITH cut AS (
        SELECT h.root_key, max(h.root_version) - prune_history.keep_versions AS last_dropped
          FROM idsql.row_version AS h
         WHERE h.root = prune_history.root
         GROUP BY h.root_key
    ),
    old AS (
        SELECT h.id, h.operation,
               row_number() OVER (PARTITION BY h.root_key, h.tbl, h.key ORDER BY h.root_version DESC, h.id DESC) AS n
          FROM idsql.row_version AS h
          JOIN cut ON cut.root_key = h.root_key
         WHERE h.root = prune_history.root AND h.root_version <= cut.last_dropped
    )
    DELETE FROM idsql.row_version AS d
     USING old
     WHERE d.id = old.id AND (old.n > 1 OR old.operation IN ('DELETE', 'MOVE'));
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    RETURN v_removed;
END
$$;

COMMENT ON FUNCTION idsql.prune_history(regclass, integer) IS
'Drop history older than the last N versions of each root row, keeping as-of working for the kept ones.';
