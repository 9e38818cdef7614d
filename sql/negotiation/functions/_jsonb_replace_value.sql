CREATE OR REPLACE FUNCTION idsql._jsonb_replace_value(doc jsonb, old_value jsonb, new_value jsonb)
    RETURNS jsonb
    LANGUAGE sql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return doc with every scalar equal to old_value replaced by new_value, at
 * any depth. Only whole values are compared: a string that merely contains
 * the old value, and object keys, are left alone.
 */
SELECT CASE jsonb_typeof(doc)
           WHEN 'object' THEN
               (SELECT coalesce(jsonb_object_agg(e.key, idsql._jsonb_replace_value(e.value, old_value, new_value)),
                                '{}')
                  FROM jsonb_each(doc) AS e)
           WHEN 'array' THEN
               (SELECT coalesce(jsonb_agg(idsql._jsonb_replace_value(a.value, old_value, new_value)
                                          ORDER BY a.ord),
                                '[]')
                  FROM jsonb_array_elements(doc) WITH ORDINALITY AS a (value, ord))
           ELSE CASE WHEN doc = old_value THEN new_value ELSE doc END
       END;
$$;

COMMENT ON FUNCTION idsql._jsonb_replace_value(jsonb, jsonb, jsonb) IS
'Internal: the document with every scalar equal to a value replaced, at any depth; substrings and keys untouched.';
