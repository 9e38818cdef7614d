CREATE OR REPLACE FUNCTION idsql._state_version_triggers_above(p_tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Generate anew the triggers of the enabled tables above p_tbl that have a
 * parent themselves: whether such a table records the moves of its
 * descendants (_state_version_after_function) depends on whether a table
 * below it keeps history, which enabling or disabling p_tbl can change. A
 * root never moves, so it is left alone.
 */
DECLARE
    v_up regclass;
    v_seen regclass[] := ARRAY[p_tbl];
BEGIN
    SELECT c.parent INTO v_up FROM idsql.state_version_table AS c WHERE c.tbl = p_tbl;
    WHILE v_up IS NOT NULL AND v_up <> ALL (v_seen) LOOP
        v_seen := v_seen || v_up;
        IF EXISTS (SELECT FROM idsql.state_version_table AS c
                    WHERE c.tbl = v_up AND c.enabled AND c.parent IS NOT NULL) THEN
            PERFORM idsql._state_version_triggers(v_up);
        END IF;
        SELECT c.parent INTO v_up FROM idsql.state_version_table AS c WHERE c.tbl = v_up;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_triggers_above(regclass) IS
'Internal: generate anew the triggers of the tables above a tracked table (not its root).';
