CREATE OR REPLACE FUNCTION idsql._state_version_function_name(tbl regclass, kind text)
    RETURNS name
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Name the function generated for a table, kind 'row' or 'after': the one
 * its idsql trigger of that kind calls now, when it has one, so that a name
 * stays with its table; else tg_state_version_<kind>_<table OID>, with a
 * suffix when a function of that name serves another table's trigger. That
 * happens after a dump and restore: the functions keep the names of the old
 * OIDs, and a table created later may get one of them.
 */
DECLARE
    v_trigger name := (CASE _state_version_function_name.kind WHEN 'row' THEN 'idsql_state_version_row'
                                                            WHEN 'after' THEN 'idsql_state_version_insert' END)::name;
    v_name name;
    v_base text := format('tg_state_version_%s_%s', _state_version_function_name.kind,
                          _state_version_function_name.tbl::oid);
BEGIN
    IF v_trigger IS NULL THEN
        RAISE EXCEPTION 'invalid kind "%"', _state_version_function_name.kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use row or after.';
    END IF;
    SELECT p.proname INTO v_name
      FROM pg_trigger AS t
      JOIN pg_proc AS p ON p.oid = t.tgfoid
     WHERE t.tgrelid = _state_version_function_name.tbl AND t.tgname = v_trigger
       AND p.pronamespace = 'idsql'::regnamespace;
    IF FOUND THEN
        RETURN v_name;
    END IF;
    v_name := v_base::name;
    FOR v_n IN 2..1000 LOOP
        EXIT WHEN NOT EXISTS (
            SELECT FROM pg_trigger AS t
              JOIN pg_proc AS p ON p.oid = t.tgfoid
             WHERE p.proname = v_name AND p.pronamespace = 'idsql'::regnamespace
               AND t.tgrelid <> _state_version_function_name.tbl);
        v_name := format('%s_%s', v_base, v_n)::name;
    END LOOP;
    RETURN v_name;
END
$$;

COMMENT ON FUNCTION idsql._state_version_function_name(regclass, text) IS
'Internal: the name of the row or statement trigger function generated for a table, never one serving another table.';
