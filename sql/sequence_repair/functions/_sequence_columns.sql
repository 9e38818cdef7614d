CREATE OR REPLACE FUNCTION idsql._sequence_columns()
    RETURNS TABLE (
        table_name regclass,
        column_name name,
        sequence_name regclass,
        kind text,
        column_type regtype,
        schema_name name,
        relname name,
        label text
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Every column that draws from a sequence, found through the catalog and
 * never by guessing names (pg_get_serial_sequence's quoting rules are the
 * classic failure): pg_depend links a serial column to the sequence it owns
 * (deptype 'a') and an identity column to its sequence ('i'); a column DEFAULT
 * that calls nextval on any other sequence depends on it from pg_attrdef.
 * Partitions are left out (their parent is counted once, and max() through the
 * parent sees every partition), as are temporary tables, the system schemas
 * and idsql itself.
 *
 * label is the column's name in report lines, in the original runbook's
 * shape: user.user_id in public, schema-qualified elsewhere (sales.invoice.id);
 * a name that is not plain lower-case ASCII is double-quoted
 * ("User Data"."Order-Items".id) so a label reads back unambiguously, while
 * keywords such as user stay bare, as the original printed them.
 */
    WITH owned AS (
        SELECT d.refobjid AS tbl, d.refobjsubid AS attnum, d.objid AS seq,
               CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'serial' END AS kind
          FROM pg_depend AS d
          JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    ),
    defaults AS (
        SELECT ad.adrelid AS tbl, ad.adnum AS attnum, d.refobjid AS seq, 'default' AS kind
          FROM pg_attrdef AS ad
          JOIN pg_depend AS d
            ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
          JOIN pg_class AS s ON s.oid = d.refobjid AND s.relkind = 'S'
         WHERE NOT EXISTS (SELECT FROM owned AS o
                            WHERE o.tbl = ad.adrelid AND o.attnum = ad.adnum AND o.seq = d.refobjid)
           -- the DEFAULT's expression tree calls nextval(regclass): read from the tree, not deparsed
           AND ad.adbin::text LIKE format('%%:funcid %s %%', 'nextval(regclass)'::regprocedure::oid)
    ),
    found AS (
        SELECT o.tbl, o.attnum, o.seq, o.kind FROM owned AS o
        UNION ALL
        SELECT f.tbl, f.attnum, f.seq, f.kind FROM defaults AS f
    )
    SELECT c.oid::regclass, a.attname, f.seq::regclass, f.kind, a.atttypid::regtype, n.nspname, c.relname,
           concat_ws('.',
                     CASE WHEN n.nspname <> 'public' THEN
                     CASE WHEN n.nspname ~ '^[a-z_][a-z0-9_$]*$' THEN n.nspname::text
                          ELSE '"' || replace(n.nspname, '"', '""') || '"' END
                     END,
                     CASE WHEN c.relname ~ '^[a-z_][a-z0-9_$]*$' THEN c.relname::text
                          ELSE '"' || replace(c.relname, '"', '""') || '"' END,
                     CASE WHEN a.attname ~ '^[a-z_][a-z0-9_$]*$' THEN a.attname::text
                          ELSE '"' || replace(a.attname, '"', '""') || '"' END)
      FROM found AS f
      JOIN pg_class AS c ON c.oid = f.tbl
      JOIN pg_namespace AS n ON n.oid = c.relnamespace
      JOIN pg_attribute AS a ON a.attrelid = f.tbl AND a.attnum = f.attnum AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'idsql')
       AND n.nspname !~ '^pg_(toast_)?temp_'
$$;

COMMENT ON FUNCTION idsql._sequence_columns() IS
'Every table column that draws from a sequence (serial, identity or a nextval DEFAULT), found through pg_depend.';
