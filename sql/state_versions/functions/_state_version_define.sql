CREATE OR REPLACE FUNCTION idsql._state_version_define(fn name, definition text, description text)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Define a function generated for a user's table: definition is its CREATE
 * FUNCTION idsql.<fn>() statement, description its comment. The function is
 * dropped first, not replaced (the caller has dropped the triggers that call
 * it): inside an extension script (ALTER EXTENSION UPDATE generating the
 * triggers of enabled tables anew) PostgreSQL refuses to replace a function
 * the extension does not own. A function created there becomes a member of
 * the extension, and is taken out again: it belongs with its table's
 * triggers, and pg_dump would otherwise leave it out while dumping them.
 */
DECLARE
    v_extension name;
BEGIN
    PERFORM idsql._state_version_drop_function(_state_version_define.fn);
    EXECUTE _state_version_define.definition;
    SELECT e.extname INTO v_extension
      FROM pg_depend AS d
      JOIN pg_extension AS e ON e.oid = d.refobjid
     WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.objid = to_regprocedure(format('idsql.%I()', _state_version_define.fn));
    IF FOUND THEN
        EXECUTE format('ALTER EXTENSION %I DROP FUNCTION idsql.%I()', v_extension, _state_version_define.fn);
    END IF;
    EXECUTE format('COMMENT ON FUNCTION idsql.%I() IS %L', _state_version_define.fn, _state_version_define.description);
END
$$;

COMMENT ON FUNCTION idsql._state_version_define(name, text, text) IS
'Internal: (re)create a function generated for a user''s table, never as a member of the extension, with its comment.';
