CREATE OR REPLACE FUNCTION idsql._state_version_columns(p_columns name[], p_alias text)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    -- SQL text of "alias.col1, alias.col2": a column list, identifiers quoted.
    SELECT string_agg(format('%I.%I', p_alias, c.col), ', ' ORDER BY c.ord)
      FROM unnest(p_columns) WITH ORDINALITY AS c (col, ord);
END;

COMMENT ON FUNCTION idsql._state_version_columns(name[], text) IS
'Internal: SQL text of a quoted column list qualified by a table alias.';
