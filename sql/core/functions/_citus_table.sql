CREATE OR REPLACE FUNCTION idsql._citus_table(
    tbl regclass,
    OUT kind text,
    OUT distribution_column name
)
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * How Citus holds a table: kind 'distributed' (with its distribution column,
 * NULL for a single-shard table), 'reference' or 'citus local'; both NULL for
 * a table Citus does not manage, and on a server without Citus. Dynamic SQL,
 * since Citus's catalog exists only where Citus is installed.
 */
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format($q$
        SELECT CASE WHEN p.partmethod <> 'n' OR p.colocationid <> 0 AND p.repmodel = 's' THEN 'distributed'
                    WHEN p.repmodel = 't' THEN 'reference'
                    ELSE 'citus local' END,
               CASE WHEN p.partkey IS NOT NULL THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END
          FROM %s AS p
         WHERE p.logicalrelid = $1
    $q$, 'pg_catalog.pg_dist_partition') INTO _citus_table.kind, _citus_table.distribution_column USING _citus_table.tbl;
END
$$;

COMMENT ON FUNCTION idsql._citus_table(regclass) IS
'How Citus holds a table (distributed, reference, citus local) and its distribution column; NULLs without Citus.';
