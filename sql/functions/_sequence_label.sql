CREATE OR REPLACE FUNCTION idsql._sequence_label(tables regclass[], columns name[])
    RETURNS text
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The name a report line gives a sequence, in the original runbook's shape:
 * "user.user_id" for a column in public. Other schemas are prefixed
 * ("sales.invoice.id"); a name that is not plain lower-case ASCII is
 * double-quoted ("User Data"."Order-Items".id) so every label reads back
 * unambiguously. Keywords such as user stay bare, as in the original. A shared
 * sequence lists every column, comma-separated.
 */
    SELECT string_agg(
               concat_ws('.',
                         CASE WHEN n.nspname <> 'public' THEN
                             CASE WHEN n.nspname ~ '^[a-z_][a-z0-9_$]*$' THEN n.nspname::text
                                  ELSE '"' || replace(n.nspname, '"', '""') || '"' END
                         END,
                         CASE WHEN c.relname ~ '^[a-z_][a-z0-9_$]*$' THEN c.relname::text
                              ELSE '"' || replace(c.relname, '"', '""') || '"' END,
                         CASE WHEN u.col ~ '^[a-z_][a-z0-9_$]*$' THEN u.col::text
                              ELSE '"' || replace(u.col, '"', '""') || '"' END),
               ', ' ORDER BY u.ord)
      FROM unnest(_sequence_label.tables, _sequence_label.columns) WITH ORDINALITY AS u (tbl, col, ord)
      JOIN pg_class AS c ON c.oid = u.tbl
      JOIN pg_namespace AS n ON n.oid = c.relnamespace
$$;

COMMENT ON FUNCTION idsql._sequence_label(regclass[], name[]) IS
'Report name of the columns a sequence serves: user.user_id in public, schema-qualified elsewhere, quoted when needed.';
