CREATE OR REPLACE FUNCTION idsql._sequence_groups(schemas name[])
    RETURNS TABLE (
        sequence_name regclass,
        tables regclass[],
        columns name[],
        kinds text[],
        column_types regtype[],
        label text
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * One row per sequence with every column that draws from it, in table OID
 * order (the order the fix locks them in, so two runs cannot deadlock). A
 * sequence shared with a table outside `schemas` keeps that table: its max
 * counts too. Ordered by schema and table name, for a stable report. label
 * names every column in report lines (see _sequence_columns).
 */
    SELECT c.sequence_name,
           array_agg(c.table_name ORDER BY c.table_name::oid, c.column_name),
           array_agg(c.column_name ORDER BY c.table_name::oid, c.column_name),
           array_agg(c.kind ORDER BY c.table_name::oid, c.column_name),
           array_agg(c.column_type ORDER BY c.table_name::oid, c.column_name),
           string_agg(c.label, ', ' ORDER BY c.table_name::oid, c.column_name)
      FROM idsql._sequence_columns() AS c
     GROUP BY c.sequence_name
    HAVING _sequence_groups.schemas IS NULL OR bool_or(c.schema_name = ANY(_sequence_groups.schemas))
     ORDER BY min(c.schema_name COLLATE "C"), min(c.relname COLLATE "C"), c.sequence_name::oid
$$;

COMMENT ON FUNCTION idsql._sequence_groups(name[]) IS
'One row per sequence with every column that draws from it, in table OID order; NULL schemas means all.';
