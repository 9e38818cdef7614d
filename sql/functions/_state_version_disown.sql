CREATE OR REPLACE FUNCTION idsql._state_version_disown(fn name)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Take a function generated for a user's table (idsql.<fn>()) out of the
 * idsql extension, if it is a member. It belongs with the table's triggers:
 * generated inside the extension's own script (ALTER EXTENSION UPDATE
 * generating the triggers of enabled tables anew), PostgreSQL records it as a
 * member, and pg_dump would then leave it out while dumping the triggers that
 * call it. Outside an extension script there is nothing to do.
 */
DECLARE
    v_extension name;
BEGIN
    SELECT e.extname INTO v_extension
      FROM pg_depend AS d
      JOIN pg_extension AS e ON e.oid = d.refobjid
     WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.objid = to_regprocedure(format('idsql.%I()', _state_version_disown.fn));
    IF FOUND THEN
        EXECUTE format('ALTER EXTENSION %I DROP FUNCTION idsql.%I()', v_extension, _state_version_disown.fn);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._state_version_disown(name) IS
'Internal: take a function generated for a user''s table out of the extension, if an extension script made it a member.';
