CREATE OR REPLACE FUNCTION idsql._server_id_for(tbl regclass, temp_id text)
    RETURNS text
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the permanent ID for temp_id of tbl: the one that replaced it, if
 * any (under the temporary ID's lock, so two sessions agree), else a new one
 * from tbl's generator: prefix:XXX calls
 * generate_id('XXX'); uuidv7 calls _uuidv7(); default takes nextval() of the
 * key's identity or serial sequence, or else evaluates the column's DEFAULT
 * expression (as written by the table's owner in its DDL, never caller text).
 */
DECLARE
    v_key record;
    v_generator text;
    v_seq text;
    v_default text;
    v_id text;
    v_temp text;
BEGIN
    SELECT s.generator INTO v_generator
      FROM idsql.id_strategy AS s
     WHERE s.tbl = _server_id_for.tbl AND s.strategy = 'server';
    IF v_generator IS NULL THEN
        RAISE EXCEPTION 'table % uses client IDs', _server_id_for.tbl
            USING ERRCODE = 'ID404',  -- client_id_table
                  DETAIL = 'Under the client strategy an ID never changes.',
                  HINT = 'Call set_id_strategy(table, ''server'', generator) first if its IDs come from the server.';
    END IF;
    v_key := idsql._negotiation_key(_server_id_for.tbl);
    EXECUTE format('SELECT $1::%s::text', v_key.type_name) INTO v_temp USING _server_id_for.temp_id;
    PERFORM idsql._lock_temp_id(_server_id_for.tbl, v_temp, false);
    SELECT m.permanent_id INTO v_id
      FROM idsql.id_mapping AS m
     WHERE m.tbl = _server_id_for.tbl AND m.temp_id = v_temp;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    IF starts_with(v_generator, 'prefix:') THEN
        RETURN idsql.generate_id(substr(v_generator, 8));
    ELSIF v_generator = 'uuidv7' THEN
        RETURN idsql._uuidv7()::text;
    END IF;
    v_seq := pg_get_serial_sequence(_server_id_for.tbl::text, v_key.column_name);
    IF v_seq IS NOT NULL THEN
        RETURN nextval(v_seq::regclass)::text;
    END IF;
    SELECT pg_get_expr(d.adbin, d.adrelid) INTO v_default
      FROM pg_attrdef AS d
     WHERE d.adrelid = _server_id_for.tbl AND d.adnum = v_key.attnum;
    IF v_default IS NULL THEN
        RAISE EXCEPTION 'key %.% has no default to generate IDs from', _server_id_for.tbl, v_key.column_name
            USING ERRCODE = 'ID402',  -- invalid_strategy
                  DETAIL = 'The generator is default.',
                  HINT = 'Give the key a DEFAULT or identity, or choose another generator with set_id_strategy().';
    END IF;
    EXECUTE format('SELECT (%s)::text', v_default) INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION idsql._server_id_for(regclass, text) IS
'Internal: the permanent ID for a temporary one: its mapping, else a new ID from the table''s generator.';
