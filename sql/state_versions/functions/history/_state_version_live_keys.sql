CREATE OR REPLACE FUNCTION idsql._state_version_live_keys(p_tbl regclass, p_parent_key jsonb)
    RETURNS bigint[]
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The key hashes (as idsql.row_version.key_hash) of the rows of p_tbl under
 * one parent now, read through an index of the foreign key; or NULL when the
 * table cannot answer for its history, and children_as_of reads the history
 * alone. That is so when its triggers are off (disabled: rows that left
 * meanwhile have no entry saying so), when no valid btree index starts with
 * the foreign key columns (the read would scan the whole table), when the
 * caller cannot select the key and foreign key columns, when row security
 * applies to the caller (the table would hide rows the history holds), and
 * when the parent key is not one the table's columns can hold: it does not
 * come back the same through their types, so no row of the table has it,
 * while the history may still (a column retyped since).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_fk smallint[];
    v_match text;
    v_same text;
    v_keys bigint[];
BEGIN
    IF NOT v_cfg.enabled OR v_cfg.parent IS NULL OR row_security_active(p_tbl) THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT FROM unnest(v_cfg.fk_columns || v_cfg.key_columns) AS c (col)
                WHERE NOT has_column_privilege(p_tbl, c.col, 'SELECT')) THEN
        RETURN NULL;
    END IF;
    -- Each value of the parent key in its foreign key column's type, as an expression of $1 that
    -- planning folds to a constant (so the index is chosen for that parent); a key that does not
    -- come back the same from those values is not one the table holds.
    SELECT array_agg(f.attnum ORDER BY f.attnum),
           string_agg(format('r.%I = %s', f.col, f.val), ' AND '),
           'pg_catalog.jsonb_build_object(' || string_agg(format('%L, %s', f.pcol, f.val), ', ') || ') = $1'
      INTO v_fk, v_match, v_same
      FROM (SELECT c.col, c.pcol, a.attnum,
                   format('($1 ->> %L)::%s', c.pcol, format_type(a.atttypid, a.atttypmod)) AS val
              FROM unnest(v_cfg.fk_columns, v_cfg.parent_columns) AS c (col, pcol)
              JOIN pg_attribute AS a ON a.attrelid = p_tbl AND a.attname = c.col AND NOT a.attisdropped) AS f;
    IF NOT EXISTS (
        SELECT FROM pg_index AS i
          JOIN pg_class AS ic ON ic.oid = i.indexrelid
          JOIN pg_am AS am ON am.oid = ic.relam
         WHERE i.indrelid = p_tbl AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree'
           AND i.indnkeyatts >= cardinality(v_fk)
           AND (SELECT array_agg(k.attnum ORDER BY k.attnum)
                  FROM unnest((string_to_array(i.indkey::text, ' ')::smallint[])[1:cardinality(v_fk)]) AS k (attnum))
               = v_fk
    ) THEN
        RETURN NULL;
    END IF;
    BEGIN
        EXECUTE format(
            'SELECT CASE WHEN %1$s THEN COALESCE((SELECT pg_catalog.array_agg(pg_catalog.jsonb_hash_extended(%2$s, 0))'
            ' FROM %3$s AS r WHERE %4$s), ''{}'') END',
            v_same, idsql._state_version_json(v_cfg.key_columns, v_cfg.key_columns, 'r'), p_tbl, v_match)
           INTO v_keys
          USING p_parent_key;
    EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
        RETURN NULL;  -- a value the column's type refuses
    END;
    RETURN v_keys;
END
$$;

COMMENT ON FUNCTION idsql._state_version_live_keys(regclass, jsonb) IS
'Internal: key hashes of the rows under a parent now, through the foreign key''s index, or NULL when the table cannot answer for its history.';
