-- Last statements of every extension script (install and upgrade): pg_dump leaves out the rows of
-- an extension's tables unless they are registered here, and a restore that lost a counter would
-- issue its IDs again. Every table and sequence of the extension holds state except
-- idsql.installation, which each script writes itself (a dumped row would collide with it), and
-- the unlogged idsql.state_version_noop, whose rows mean nothing outside their transaction.
DO $idsql$
DECLARE
    v_rel regclass;
BEGIN
    FOR v_rel IN
        SELECT c.oid::pg_catalog.regclass
          FROM pg_catalog.pg_depend AS d
          JOIN pg_catalog.pg_extension AS e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
          JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND e.extname OPERATOR(pg_catalog.=) 'idsql'
           AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,S}'::"char" [])
           AND c.oid OPERATOR(pg_catalog.<>) 'idsql.installation'::pg_catalog.regclass
           AND c.relpersistence OPERATOR(pg_catalog.<>) 'u'
         ORDER BY c.relname
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(v_rel, '');
    END LOOP;
END
$idsql$;

-- Registered with pg_tle (pyidsql install --tle), the extension has its control function there;
-- a restore of its dump runs this script again and must say so too.
UPDATE idsql.installation
   SET channel = CASE WHEN pg_catalog.to_regprocedure('pgtle."idsql.control"()') IS NULL THEN 'extension'
                      ELSE 'pg_tle' END;
