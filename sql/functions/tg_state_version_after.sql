CREATE OR REPLACE FUNCTION idsql.tg_state_version_after()
    RETURNS trigger
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Statement-level AFTER INSERT/UPDATE/DELETE trigger of a tracked table, with
 * its transition tables idsql_new / idsql_old. Once per statement:
 * 1. count the change for each distinct parent of the changed rows (new and
 *    old parent of a moved row), in key order; the parent's own statement
 *    trigger carries it on up to the root;
 * 2. record the changed rows in idsql.row_version, if the table keeps history.
 * The transition tables hold changed rows only: suppress_redundant_updates_trigger
 * and the row trigger drop no-op UPDATEs before they are written.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(TG_RELID::regclass);
    v_parents jsonb[];
    v_map jsonb := '{}'::jsonb;
    v_root regclass := TG_RELID::regclass;
BEGIN
    IF v_cfg.parent IS NOT NULL THEN
        IF TG_OP = 'INSERT' THEN
            EXECUTE format('SELECT array_agg(DISTINCT %s) FROM idsql_new AS n WHERE pg_catalog.num_nulls(%s) = 0',
                           idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'n'),
                           idsql._state_version_columns(v_cfg.fk_columns, 'n'))
               INTO v_parents;
        ELSIF TG_OP = 'DELETE' THEN
            EXECUTE format('SELECT array_agg(DISTINCT %s) FROM idsql_old AS o WHERE pg_catalog.num_nulls(%s) = 0',
                           idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'o'),
                           idsql._state_version_columns(v_cfg.fk_columns, 'o'))
               INTO v_parents;
        ELSE
            -- Every row here changed (no-op UPDATEs are suppressed before they are
            -- written), so its parent before and after both count: the same row
            -- unless it moved.
            EXECUTE format('SELECT array_agg(DISTINCT s.p) FROM (SELECT %s FROM idsql_new AS n WHERE pg_catalog.num_nulls(%s) = 0'
                           ' UNION SELECT %s FROM idsql_old AS o WHERE pg_catalog.num_nulls(%s) = 0) AS s (p)',
                           idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'n'),
                           idsql._state_version_columns(v_cfg.fk_columns, 'n'),
                           idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'o'),
                           idsql._state_version_columns(v_cfg.fk_columns, 'o'))
               INTO v_parents;
        END IF;
        PERFORM idsql._state_version_touch(v_cfg.parent, v_parents);
        IF v_cfg.history THEN
            v_map := idsql._state_version_parent_map(v_cfg.parent, v_parents);
            v_root := idsql._state_version_root_table(v_cfg.parent);
        END IF;
    END IF;
    IF NOT v_cfg.history THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE idsql._state_version_history(TG_RELID::regclass, v_root, 'idsql_new AS r', 'true', 'INSERT')
            USING v_map;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE idsql._state_version_history(TG_RELID::regclass, v_root, 'idsql_old AS r', 'true', 'DELETE')
            USING v_map;
    ELSE
        IF v_cfg.parent IS NOT NULL THEN
            -- A row that moved to another parent leaves its old one: recorded there first.
            EXECUTE idsql._state_version_history(
                TG_RELID::regclass, v_root,
                format('idsql_old AS r JOIN idsql_new AS n ON (%s) = (%s)',
                       idsql._state_version_columns(v_cfg.key_columns, 'r'),
                       idsql._state_version_columns(v_cfg.key_columns, 'n')),
                format('NOT (n OPERATOR(pg_catalog.*=) r) AND (%s) IS DISTINCT FROM (%s)',
                       idsql._state_version_columns(v_cfg.fk_columns, 'r'),
                       idsql._state_version_columns(v_cfg.fk_columns, 'n')),
                'MOVE')
                USING v_map;
        END IF;
        EXECUTE idsql._state_version_history(TG_RELID::regclass, v_root, 'idsql_new AS r', 'true', 'UPDATE')
            USING v_map;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION idsql.tg_state_version_after() IS
'Statement trigger of tracked tables: counts a change once per distinct parent, records history.';
