CREATE OR REPLACE FUNCTION idsql._state_version_after_function(p_tbl regclass, p_fn name)
    RETURNS name
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * (Re)create the statement-level AFTER trigger function of a tracked table,
 * idsql.<p_fn>() (see _state_version_function_name), from its configuration,
 * and return its name. Once per INSERT, UPDATE or DELETE statement it:
 * 1. counts the change for each distinct parent of the changed rows (old and
 *    new parent of a moved row) through _state_version_touch, which locks
 *    them in key order; the parent's own trigger carries it on to the root;
 * 2. records the changed rows in idsql.row_version, if the table keeps history;
 * 3. when a row moved to a parent under another root row and some table below
 *    keeps history, records that its descendants changed root with it
 *    (_state_version_carry).
 * A no-op UPDATE is written unchanged (so that it counts in the statement's
 * row count) and flags the transaction (_state_version_noop): from then on,
 * an UPDATE reads its transition tables through the rows it changed, a new row
 * with no equal old row of its key and the other way round, so that rows
 * written unchanged touch no parent and leave no history. Until then, every
 * row of the transition tables changed, and the statements read them as they are.
 * The SQL is generated once here, as static SQL in the function, so each
 * session plans it once instead of on every statement. It names the tables by TG_RELID and, for
 * a child, by its parent and root read from idsql.state_version_table, never
 * by OID constants: a dump and restore gives the tables new OIDs and keeps
 * the function's text.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_root regclass := idsql._state_version_root_table(p_tbl);
    v_head text;
    v_body text := '';
    v_k_n text := idsql._state_version_columns(v_cfg.key_columns, 'n');
    v_k_o text := idsql._state_version_columns(v_cfg.key_columns, 'o');
    v_root_sql text := 'TG_RELID::regclass';
    v_pk_n text;
    v_pk_o text;
    v_fk_n text;
    v_fk_o text;
    v_gone text;
    -- A row that moves to a parent under another root takes its descendants with it: when some
    -- table below keeps history, _state_version_carry records that they changed root.
    v_carry boolean := v_cfg.parent IS NOT NULL AND v_cfg.version_column IS NOT NULL AND EXISTS (
        WITH RECURSIVE d (tbl, history) AS (
            SELECT c.tbl, c.history FROM idsql.state_version_table AS c WHERE c.parent = p_tbl AND c.enabled
            UNION ALL
            SELECT c.tbl, c.history FROM idsql.state_version_table AS c JOIN d ON c.parent = d.tbl WHERE c.enabled
        )
        SELECT FROM d WHERE d.history);
BEGIN
    -- Each table's function declares only what it uses.
    v_head := CASE WHEN v_cfg.parent IS NULL THEN E'BEGIN\n'
                   ELSE E'DECLARE\n    idsql_parent regclass;\n    idsql_parents jsonb[];\n'
                        || CASE WHEN v_cfg.history OR v_carry THEN E'    idsql_map jsonb;\n' ELSE '' END
                        || CASE WHEN v_cfg.history THEN E'    idsql_root regclass;\n' ELSE '' END
                        || CASE WHEN v_carry THEN E'    idsql_moves jsonb;\n' ELSE '' END
                        || E'BEGIN\n' END;
    IF v_cfg.parent IS NOT NULL THEN
        v_body := v_body
            || E'    SELECT c.parent INTO idsql_parent FROM idsql.state_version_table AS c WHERE c.tbl = TG_RELID;\n';
        IF v_cfg.history THEN
            v_body := v_body || E'    idsql_root := idsql._state_version_root_table(TG_RELID::regclass);\n';
            v_root_sql := 'idsql_root';
        END IF;
        v_pk_n := idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'n');
        v_pk_o := idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'o');
        v_fk_n := idsql._state_version_columns(v_cfg.fk_columns, 'n');
        v_fk_o := idsql._state_version_columns(v_cfg.fk_columns, 'o');
        v_body := v_body || format(
            E'    IF TG_OP = ''INSERT'' THEN\n' ||
            E'        SELECT array_agg(DISTINCT %1$s) INTO idsql_parents FROM idsql_new AS n' ||
            E' WHERE pg_catalog.num_nulls(%3$s) = 0;\n' ||
            E'    ELSIF TG_OP = ''DELETE'' THEN\n' ||
            E'        SELECT array_agg(DISTINCT %2$s) INTO idsql_parents FROM idsql_old AS o' ||
            E' WHERE pg_catalog.num_nulls(%4$s) = 0;\n' ||
            E'    ELSE\n' ||
            E'        SELECT array_agg(DISTINCT s.p) INTO idsql_parents FROM (' ||
            E'SELECT %1$s FROM idsql_new AS n WHERE pg_catalog.num_nulls(%3$s) = 0' ||
            E' UNION SELECT %2$s FROM idsql_old AS o WHERE pg_catalog.num_nulls(%4$s) = 0) AS s (p);\n' ||
            E'    END IF;\n' ||
            E'    PERFORM idsql._state_version_touch(idsql_parent, idsql_parents);\n',
            v_pk_n, v_pk_o, v_fk_n, v_fk_o);
        IF v_cfg.history OR v_carry THEN
            v_body := v_body || E'    idsql_map := idsql._state_version_parent_map(idsql_parent, idsql_parents);\n';
        END IF;
        IF v_carry THEN
            v_body := v_body || format(
                -- Only when the parents before and after are under more than one root row.
                E'    IF TG_OP = ''UPDATE'' AND (SELECT pg_catalog.count(DISTINCT e.value -> ''rk'')' ||
                E' FROM pg_catalog.jsonb_each(idsql_map) AS e) > 1 THEN\n' ||
                E'        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(''k'', %1$s, ''v'', n.%2$I,' ||
                E' ''from'', idsql_map -> (%3$s)::text, ''to'', idsql_map -> (%4$s)::text)) INTO idsql_moves' ||
                E' FROM idsql_old AS o JOIN idsql_new AS n ON (%5$s) = (%6$s)' ||
                E' WHERE (idsql_map -> (%3$s)::text -> ''rk'') IS DISTINCT FROM (idsql_map -> (%4$s)::text -> ''rk'');\n' ||
                E'        PERFORM idsql._state_version_carry(TG_RELID::regclass, idsql_moves);\n' ||
                E'    END IF;\n',
                idsql._state_version_json(v_cfg.key_columns, v_cfg.key_columns, 'n'), v_cfg.version_column,
                v_pk_o, v_pk_n,
                idsql._state_version_columns(v_cfg.key_columns, 'o'), idsql._state_version_columns(v_cfg.key_columns, 'n'));
        END IF;
    END IF;
    IF v_cfg.history THEN
        v_body := v_body
            || E'    IF TG_OP = ''INSERT'' THEN\n        '
            || replace(idsql._state_version_history(p_tbl, v_root, 'idsql_new AS r', 'true', 'INSERT',
                                                  'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map')
            || E';\n    ELSIF TG_OP = ''DELETE'' THEN\n        '
            || replace(idsql._state_version_history(p_tbl, v_root, 'idsql_old AS r', 'true', 'DELETE',
                                                  'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map')
            || E';\n    ELSE\n';
        IF v_cfg.parent IS NOT NULL THEN
            -- A row that moved to another parent leaves its old one: recorded there first.
            v_body := v_body || '        ' || replace(idsql._state_version_history(
                p_tbl, v_root,
                format('idsql_old AS r JOIN idsql_new AS n ON (%s) = (%s)',
                       idsql._state_version_columns(v_cfg.key_columns, 'r'),
                       idsql._state_version_columns(v_cfg.key_columns, 'n')),
                format('(%s) IS DISTINCT FROM (%s)',
                       idsql._state_version_columns(v_cfg.fk_columns, 'r'),
                       idsql._state_version_columns(v_cfg.fk_columns, 'n')),
                'MOVE', 'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map') || E';\n';
        END IF;
        -- A row whose key changed leaves its old key: recorded as that key's deletion, so that
        -- reads at later versions no longer find the row under it (the row goes on under its new
        -- key, recorded below). Looked for first with a SELECT of the transition tables alone:
        -- an INSERT that finds no row still opens idsql.row_version and its indexes, which cost
        -- a single-row UPDATE about 8 us.
        v_gone := format('NOT EXISTS (SELECT FROM idsql_new AS n WHERE (%s) = (%s))',
                         v_k_n, idsql._state_version_columns(v_cfg.key_columns, 'r'));
        v_body := v_body || format(E'        IF EXISTS (SELECT FROM idsql_old AS r WHERE %s) THEN\n            ', v_gone)
            || replace(idsql._state_version_history(p_tbl, v_root, 'idsql_old AS r', v_gone, 'DELETE',
                                                  'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map')
            || E';\n        END IF;\n';
        v_body := v_body || '        '
            || replace(idsql._state_version_history(p_tbl, v_root, 'idsql_new AS r', 'true', 'UPDATE',
                                                  'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map')
            || E';\n    END IF;\n';
    END IF;
    -- Every statement above names a transition table as "idsql_new AS x" or "idsql_old AS x":
    -- the copy for a transaction with no-op UPDATEs names the changed rows instead.
    v_body := '    ' || replace(rtrim(v_body, E'\n'), E'\n', E'\n    ') || E'\n';
    v_body := v_head
        || E'    IF TG_OP = ''UPDATE'' AND pg_catalog.current_setting(''idsql.state_version_noop'', true) = ''on'' THEN\n'
        || replace(replace(replace(replace(v_body,
                                           'idsql_new AS ', chr(1) || ' AS '),
                                   'idsql_old AS ', chr(2) || ' AS '),
                           chr(1), format('(SELECT n.* FROM idsql_new AS n WHERE NOT EXISTS (SELECT FROM idsql_old AS o'
                                          ' WHERE (%s) = (%s) AND n.* OPERATOR(pg_catalog.*=) o.*))', v_k_o, v_k_n)),
                   chr(2), format('(SELECT o.* FROM idsql_old AS o WHERE NOT EXISTS (SELECT FROM idsql_new AS n'
                                  ' WHERE (%s) = (%s) AND n.* OPERATOR(pg_catalog.*=) o.*))', v_k_n, v_k_o))
        || E'    ELSE\n' || v_body || E'    END IF;\n    RETURN NULL;\nEND\n';
    PERFORM idsql._state_version_define(
        p_fn,
        format(E'CREATE FUNCTION idsql.%I()\n'
               || E'    RETURNS trigger\n    LANGUAGE plpgsql\n    VOLATILE\n'
               || E'    SET search_path = pg_catalog, pg_temp\nAS $fn$\n'
               || E'/* Statement trigger of %s, generated by idsql.enable_state_version(). */\n%s$fn$',
               p_fn, p_tbl, v_body),
        format('Statement trigger of %s generated by enable_state_version(): parents, history.', p_tbl));
    RETURN p_fn;
END
$$;

COMMENT ON FUNCTION idsql._state_version_after_function(regclass, name) IS
'Internal: (re)create the generated statement trigger function of a tracked table; returns its name.';
