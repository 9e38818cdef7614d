CREATE OR REPLACE FUNCTION idsql._state_version_root(p_tbl regclass, p_key jsonb)
    RETURNS TABLE (version bigint, root regclass, root_key jsonb, root_version bigint)
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * For one row of a versioned table: its version, and the root row above it
 * (table, key, version), walking up the parent chain one row per level. The
 * statement trigger calls it once per distinct parent, after counting the
 * change for it, so the versions are the ones this transaction will commit.
 * NULLs when the row is gone (a parent deleted in the same statement).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_match text;
BEGIN
    root := p_tbl;
    root_key := p_key;
    LOOP
        v_match := format('(%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, $1) AS r)',
                          idsql._state_version_columns(v_cfg.key_columns, 't'),
                          idsql._state_version_columns(v_cfg.key_columns, 'r'), root);
        IF v_cfg.parent IS NULL THEN
            EXECUTE format('SELECT t.%I FROM %s AS t WHERE %s', v_cfg.version_column, root, v_match)
               INTO root_version USING root_key;
            IF root = p_tbl THEN
                version := root_version;
            END IF;
            RETURN NEXT;
            RETURN;
        END IF;
        IF root = p_tbl THEN
            EXECUTE format('SELECT t.%I FROM %s AS t WHERE %s', v_cfg.version_column, root, v_match)
               INTO version USING root_key;
        END IF;
        EXECUTE format('SELECT %s FROM %s AS t WHERE %s',
                       idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 't'), root, v_match)
           INTO root_key USING root_key;
        root := v_cfg.parent;
        v_cfg := idsql._state_version_config(root);
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_root(regclass, jsonb) IS
'Internal: a row''s version and the root row above it (table, key, version), walking up the parent chain.';
