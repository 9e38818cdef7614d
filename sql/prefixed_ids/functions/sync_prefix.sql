CREATE OR REPLACE FUNCTION idsql.sync_prefix(prefix text, source regclass, id_column name)
    RETURNS text
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * After an import or a restore: move the counter of a prefix forward (never
 * back) to the highest ordinal found in source.id_column among that prefix's
 * IDs; return the current ID afterwards. Values that are not valid IDs of the
 * prefix are skipped and counted in a NOTICE. The counter is locked before
 * the scan (its format decides how IDs parse), so generate_id calls for this
 * prefix wait for the scan and the caller's commit.
 */
DECLARE
    v_type_category "char";
    v_counter idsql.prefix_counter;
    v_max bigint;
    v_skipped bigint;
    v_ordinal bigint;
BEGIN
    PERFORM idsql._check_prefix(sync_prefix.prefix);
    IF sync_prefix.source IS NULL OR sync_prefix.id_column IS NULL THEN
        RAISE EXCEPTION 'source and id_column must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table and the column that hold the IDs, e.g. sync_prefix(''CUS'', ''customer'', ''id'').';
    END IF;
    SELECT t.typcategory INTO v_type_category
      FROM pg_attribute AS a
      JOIN pg_type AS t ON t.oid = a.atttypid
     WHERE a.attrelid = sync_prefix.source AND a.attname = sync_prefix.id_column
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', sync_prefix.id_column, sync_prefix.source
            USING ERRCODE = 'undefined_column',
                  HINT = 'Pass the name of the column that holds the IDs.';
    END IF;
    IF v_type_category <> 'S' THEN
        RAISE EXCEPTION 'column "%" of relation "%" is not text', sync_prefix.id_column, sync_prefix.source
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = 'Prefixed IDs are stored in text, varchar or char columns.',
                  HINT = 'Pass the column that holds IDs such as CUS-AAA0001.';
    END IF;

    v_counter := idsql._lock_counter(sync_prefix.prefix);
    EXECUTE format(
        'SELECT max(p.ordinal), count(*) FILTER (WHERE p.ordinal IS NULL OR p.prefix <> $1)'
        ' FROM (SELECT %I::text AS v FROM %s) AS s, LATERAL idsql._parse_id(s.v, $3, $4) AS p'
        ' WHERE starts_with(s.v, $2)',
        sync_prefix.id_column, sync_prefix.source)
    INTO v_max, v_skipped
    USING sync_prefix.prefix, sync_prefix.prefix || '-', v_counter.digits, v_counter.min_letters;
    IF v_skipped > 0 THEN
        RAISE NOTICE 'skipped % value(s) in %.% that are not valid IDs of prefix %',
            v_skipped, sync_prefix.source, quote_ident(sync_prefix.id_column), sync_prefix.prefix;
    END IF;

    v_ordinal := idsql._last_ordinal(v_counter);
    IF v_max > v_ordinal THEN
        PERFORM idsql._set_last_ordinal(v_counter, v_max);
        v_ordinal := v_max;
    END IF;
    IF v_ordinal = 0 THEN
        RETURN NULL;
    END IF;
    RETURN idsql._format_ordinal(v_counter.prefix, v_ordinal, v_counter.digits, v_counter.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.sync_prefix(text, regclass, name) IS
'Move the counter of a prefix forward (never back) to the highest ID found in a table column; returns the current ID.';
