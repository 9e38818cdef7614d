CREATE OR REPLACE FUNCTION idsql._state_version_history(
    p_tbl regclass, p_root regclass, p_from text, p_where text, p_operation text,
    p_tbl_sql text DEFAULT NULL, p_root_sql text DEFAULT NULL
)
    RETURNS text
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * SQL text of the INSERT that records rows of p_tbl in idsql.row_version, one
 * set-based statement for all the rows of a trigger's statement. p_from names
 * the rows as alias r (a transition table, or the table itself for a
 * baseline); p_where filters them. For a table with a parent, $1 is a jsonb
 * map from each parent key to that parent's version and root (key, version),
 * built once per distinct parent; rows without a parent (NULL foreign key)
 * are under no root and are not recorded. p_tbl_sql and p_root_sql spell the
 * table and the root in the SQL when the OIDs must not be written into it (a
 * trigger function, which outlives a dump and restore that gives the tables
 * new OIDs); by default they are OID constants. OFFSET 0 keeps each key an
 * expression evaluated once per row: a subquery pulled up into the SELECT
 * would build the same jsonb again for every column that uses it.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_key text := idsql._state_version_json(v_cfg.key_columns, v_cfg.key_columns, 'r');
    v_version text := CASE WHEN v_cfg.version_column IS NULL THEN 'NULL::bigint'
                           ELSE format('r.%I', v_cfg.version_column) END;
    v_pk text;
    v_tbl text := coalesce(p_tbl_sql, format('%s::pg_catalog.oid::pg_catalog.regclass', p_tbl::oid));
    v_root text := coalesce(p_root_sql, format('%s::pg_catalog.oid::pg_catalog.regclass', p_root::oid));
BEGIN
    IF v_cfg.parent IS NULL THEN
        RETURN format(
            'INSERT INTO idsql.row_version (tbl, key, state_version, parent_key, parent_version,'
            ' root, root_key, root_version, operation, row_data, key_hash, parent_hash, root_hash)'
            ' SELECT %1$s, k.key, %3$s, NULL, NULL,'
            ' %7$s, k.key, %3$s, %4$L, pg_catalog.to_jsonb(r.*),'
            ' k.hash, NULL, k.hash'
            ' FROM %5$s CROSS JOIN LATERAL (SELECT j.key, pg_catalog.jsonb_hash_extended(j.key, 0) AS hash'
            ' FROM (SELECT %2$s AS key OFFSET 0) AS j) AS k WHERE %6$s',
            v_tbl, v_key, v_version, p_operation, p_from, p_where, v_root);
    END IF;
    v_pk := idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'r');
    RETURN format(
        'INSERT INTO idsql.row_version (tbl, key, state_version, parent_key, parent_version,'
        ' root, root_key, root_version, operation, row_data, key_hash, parent_hash, root_hash)'
        ' SELECT %1$s, w.key, %3$s, m.pk, (m.i ->> %9$L)::bigint,'
        ' %4$s, m.i -> %10$L, (m.i ->> %11$L)::bigint,'
        ' %5$L, pg_catalog.to_jsonb(r.*), pg_catalog.jsonb_hash_extended(w.key, 0),'
        ' pg_catalog.jsonb_hash_extended(m.pk, 0), pg_catalog.jsonb_hash_extended(m.i -> %10$L, 0)'
        ' FROM %6$s CROSS JOIN LATERAL (SELECT %7$s AS pk, %2$s AS key OFFSET 0) AS w'
        ' CROSS JOIN LATERAL (SELECT w.pk, $1 -> w.pk::text AS i OFFSET 0) AS m'
        ' WHERE (%8$s) AND m.i IS NOT NULL',
        v_tbl, v_key, v_version, v_root, p_operation, p_from, v_pk, p_where, 'v', 'rk', 'rv');
END
$$;

COMMENT ON FUNCTION idsql._state_version_history(regclass, regclass, text, text, text, text, text) IS
'Internal: SQL text of the set-based INSERT that records changed rows of a table in idsql.row_version.';
