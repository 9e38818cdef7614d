CREATE OR REPLACE FUNCTION idsql.set_id_strategy(tbl regclass, strategy text, generator text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Choose how tbl gets its IDs. client (the default for every table) never
 * changes an ID; server replaces temporary IDs with IDs from the generator:
 * prefix:INV (generate_id, text keys), default (the key's DEFAULT or
 * identity), uuidv7 (uuid or text keys); server without a generator means
 * default. Switching from server to client is refused while rows of tbl
 * still carry temporary IDs: they would be stranded, never replaced. (From
 * client to server is allowed: rows already shaped like temporary IDs become
 * negotiable.) Takes SHARE ROW EXCLUSIVE on tbl so no temporary ID arrives
 * while the rows are checked.
 */
DECLARE
    v_key record;
    v_generator text := set_id_strategy.generator;
    v_pending text;
    v_has_default boolean;
BEGIN
    IF set_id_strategy.strategy IS NULL OR set_id_strategy.strategy NOT IN ('client', 'server') THEN
        RAISE EXCEPTION 'invalid ID strategy "%"', left(coalesce(set_id_strategy.strategy, 'NULL'), 40)
            USING ERRCODE = 'ID402',  -- invalid_strategy
                  DETAIL = 'The strategy is client or server.',
                  HINT = 'Use client (IDs never change) or server (temporary IDs are replaced by server IDs).';
    END IF;
    v_key := idsql._negotiation_key(set_id_strategy.tbl);
    IF set_id_strategy.strategy = 'client' THEN
        IF v_generator IS NOT NULL THEN
            RAISE EXCEPTION 'the client strategy takes no generator'
                USING ERRCODE = 'ID402',  -- invalid_strategy
                      DETAIL = format('The generator given was "%s".', left(v_generator, 40)),
                      HINT = 'Leave the generator out, or use the server strategy.';
        END IF;
    ELSE
        v_generator := coalesce(v_generator, 'default');
        SELECT EXISTS (SELECT FROM pg_attrdef AS d
                        WHERE d.adrelid = set_id_strategy.tbl AND d.adnum = v_key.attnum)
               OR (SELECT a.attidentity <> '' FROM pg_attribute AS a
                    WHERE a.attrelid = set_id_strategy.tbl AND a.attnum = v_key.attnum)
          INTO v_has_default;
        IF NOT (v_generator = 'uuidv7' AND v_key.kind IN ('uuid', 'text')
                OR v_generator ~ '^prefix:[A-Z_][A-Z0-9_]{0,19}$' AND v_key.kind = 'text'
                OR v_generator = 'default' AND v_has_default) THEN
            RAISE EXCEPTION 'generator "%" cannot make IDs for %.%',
                            left(v_generator, 40), set_id_strategy.tbl, v_key.column_name
                USING ERRCODE = 'ID402',  -- invalid_strategy
                      DETAIL = format('The key is of type %s%s.', v_key.type_name,
                                      CASE WHEN v_has_default THEN '' ELSE ' without a default' END),
                      HINT = 'Use prefix:XXX for text keys, uuidv7 for uuid or text keys, '
                             'or default for a key with a DEFAULT or identity.';
        END IF;
    END IF;

    IF set_id_strategy.strategy = 'client' AND
       (SELECT s.strategy FROM idsql.id_strategy AS s WHERE s.tbl = set_id_strategy.tbl) = 'server' THEN
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', set_id_strategy.tbl);
        EXECUTE format('SELECT t.%I::text FROM %s AS t WHERE idsql.is_temp_id($1, t.%I::text) LIMIT 1',
                       v_key.column_name, set_id_strategy.tbl, v_key.column_name)
           INTO v_pending
          USING set_id_strategy.tbl;
        IF v_pending IS NOT NULL THEN
            RAISE EXCEPTION 'table % still has temporary IDs', set_id_strategy.tbl
                USING ERRCODE = 'ID403',  -- strategy_locked
                      DETAIL = format('Row %s = %s, for example, has not been negotiated.',
                                      v_key.column_name, v_pending),
                      HINT = 'Negotiate or delete the rows with temporary IDs, then switch the strategy.';
        END IF;
    END IF;

    INSERT INTO idsql.id_strategy AS s (tbl, strategy, generator)
    VALUES (set_id_strategy.tbl, set_id_strategy.strategy, v_generator)
    ON CONFLICT ON CONSTRAINT id_strategy_pkey DO UPDATE
        SET strategy = excluded.strategy, generator = excluded.generator, updated_at = now();
END
$$;

COMMENT ON FUNCTION idsql.set_id_strategy(regclass, text, text) IS
'Choose client IDs (never change) or server IDs (temporary IDs replaced, from prefix:XXX, default or uuidv7) for a table.';
