CREATE OR REPLACE FUNCTION idsql._in_schemas(tbl regclass, schemas name[])
    RETURNS boolean
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Whether a table is in one of schemas (NULL: every schema). The sequence
 * reports list the columns in the schemas asked for; a sequence those columns
 * share with tables elsewhere is still measured and fixed across all of them.
 */
SELECT _in_schemas.schemas IS NULL
       OR EXISTS (SELECT FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                   WHERE c.oid = _in_schemas.tbl AND n.nspname = ANY(_in_schemas.schemas));
$$;

COMMENT ON FUNCTION idsql._in_schemas(regclass, name[]) IS
'Internal: whether a table is in one of the schemas given (NULL: every schema).';
