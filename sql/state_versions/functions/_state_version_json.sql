CREATE OR REPLACE FUNCTION idsql._state_version_json(p_names name[], p_columns name[], p_alias text)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    -- SQL text of jsonb_build_object('name1', alias.column1, ...): a key as JSON.
    SELECT 'pg_catalog.jsonb_build_object('
           || string_agg(format('%L, %I.%I', n.name, p_alias, c.col), ', ' ORDER BY n.ord)
           || ')'
      FROM unnest(p_names) WITH ORDINALITY AS n (name, ord)
     INNER JOIN unnest(p_columns) WITH ORDINALITY AS c (col, ord) ON n.ord = c.ord;
END;

COMMENT ON FUNCTION idsql._state_version_json(name[], name[], text) IS
'Internal: SQL text that builds a row key as jsonb from columns of a table alias; identifiers quoted.';
