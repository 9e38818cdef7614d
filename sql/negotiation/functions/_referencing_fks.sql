CREATE OR REPLACE FUNCTION idsql._referencing_fks(tbl regclass, key_attnum smallint)
    RETURNS TABLE (
        constraint_name name,
        child regclass,
        child_columns name[],
        child_key_column name,
        child_key_type regtype,
        other_child_columns name[],
        other_parent_columns name[],
        on_update text,
        indexed boolean,
        problem text,
        match_condition text
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return every foreign key whose referenced columns include tbl's key column
 * (attnum key_attnum), with the referencing column that holds the key and the
 * other column pairs a composite key must match. conkey and confkey are paired
 * by position, never by attnum order, so a key declared as (b, a) maps right.
 * Clones that partitions inherit (conparentid <> 0) are skipped: the
 * constraint on the partitioned table covers them, and rows are rewritten
 * through it. problem is NULL when the key can be rewritten, else the reason
 * it cannot: ON UPDATE RESTRICT / SET NULL / SET DEFAULT, or a non-deferrable
 * NO ACTION key in a two-table cycle. match_condition is the SQL test that a
 * row of the child (alias c) references the row of tbl whose key is $2: the
 * key column equals $2 and, for a composite key, the other columns equal the
 * parent row's (a NULL column matches nothing, as in MATCH SIMPLE), so other
 * tenants' rows with the same value are never touched. Ordered by child, then
 * name, so concurrent negotiations touch tables in the same order.
 */
SELECT c.conname,
       c.conrelid::regclass,
       cols.child_columns,
       cols.child_key_column,
       cols.child_key_type,
       cols.other_child_columns,
       cols.other_parent_columns,
       CASE c.confupdtype
           WHEN 'a' THEN 'NO ACTION'
           WHEN 'r' THEN 'RESTRICT'
           WHEN 'c' THEN 'CASCADE'
           WHEN 'n' THEN 'SET NULL'
           WHEN 'd' THEN 'SET DEFAULT'
       END || CASE WHEN c.condeferrable THEN ' DEFERRABLE' ELSE '' END,
       EXISTS (SELECT FROM pg_index AS i
                WHERE i.indrelid = c.conrelid AND i.indkey[0] = cols.child_key_attnum),
       CASE
           WHEN c.confupdtype = 'r' THEN 'ON UPDATE RESTRICT forbids changing the referenced key'
           WHEN c.confupdtype = 'n' THEN 'ON UPDATE SET NULL would clear the references'
           WHEN c.confupdtype = 'd' THEN 'ON UPDATE SET DEFAULT would overwrite the references'
           WHEN c.confupdtype = 'a' AND NOT c.condeferrable AND c.conrelid <> c.confrelid
                AND EXISTS (SELECT FROM pg_constraint AS back
                             WHERE back.contype = 'f' AND back.conrelid = c.confrelid
                               AND back.confrelid = c.conrelid)
               THEN 'non-deferrable foreign key in a cycle'
       END,
       format('c.%I = $2::%s', cols.child_key_column, cols.child_key_type)
       || CASE WHEN cardinality(cols.other_child_columns) = 0 THEN ''
               ELSE format(' AND (%s) = (SELECT %s FROM %s AS p WHERE p.%I = $2::%s)',
                           (SELECT string_agg(format('c.%I', x.col), ', ' ORDER BY x.ord)
                              FROM unnest(cols.other_child_columns) WITH ORDINALITY AS x (col, ord)),
                           (SELECT string_agg(format('p.%I', x.col), ', ' ORDER BY x.ord)
                              FROM unnest(cols.other_parent_columns) WITH ORDINALITY AS x (col, ord)),
                           _referencing_fks.tbl, pk.attname, pk.atttypid::regtype)
          END
  FROM pg_constraint AS c
  JOIN pg_attribute AS pk ON pk.attrelid = c.confrelid AND pk.attnum = _referencing_fks.key_attnum
 CROSS JOIN LATERAL (
       SELECT array_agg(ca.attname ORDER BY k.ord) AS child_columns,
              min(ca.attname) FILTER (WHERE k.parent_att = _referencing_fks.key_attnum) AS child_key_column,
              min(k.child_att) FILTER (WHERE k.parent_att = _referencing_fks.key_attnum) AS child_key_attnum,
              (array_agg(ca.atttypid::regtype)
                  FILTER (WHERE k.parent_att = _referencing_fks.key_attnum))[1] AS child_key_type,
              coalesce(array_agg(ca.attname ORDER BY k.ord)
                           FILTER (WHERE k.parent_att <> _referencing_fks.key_attnum), '{}') AS other_child_columns,
              coalesce(array_agg(pa.attname ORDER BY k.ord)
                           FILTER (WHERE k.parent_att <> _referencing_fks.key_attnum), '{}') AS other_parent_columns
         FROM unnest(c.conkey, c.confkey) WITH ORDINALITY AS k (child_att, parent_att, ord)
         JOIN pg_attribute AS ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_att
         JOIN pg_attribute AS pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_att
       ) AS cols
 WHERE c.contype = 'f'
   AND c.confrelid = _referencing_fks.tbl
   AND c.conparentid = 0
   AND _referencing_fks.key_attnum = ANY (c.confkey)
 ORDER BY c.conrelid::regclass::text, c.conname;
$$;

COMMENT ON FUNCTION idsql._referencing_fks(regclass, smallint) IS
'Internal: the foreign keys that reference a table''s key column, paired by position, with the reason any is unsafe.';
