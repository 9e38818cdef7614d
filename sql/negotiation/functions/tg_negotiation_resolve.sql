CREATE OR REPLACE FUNCTION idsql.tg_negotiation_resolve()
    RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * BEFORE INSERT OR UPDATE on a referencing table (enable_late_reference_resolution):
 * a foreign-key column that still carries a temporary ID of a server-strategy
 * table, already replaced, is rewritten to the permanent ID (TG_ARGV[0] =
 * 'resolve'), or the row is refused with a foreign-key error whose DETAIL
 * names the mapping ('reject'). The shared lock of the temporary ID makes a
 * row written while its parent is being negotiated wait for that transaction
 * and then see its mapping, instead of failing its foreign-key check.
 */
DECLARE
    v_ref record;
    v_value text;
    v_permanent text;
BEGIN
    FOR v_ref IN
        SELECT c.conname, c.confrelid::regclass AS parent, ca.attname AS col
          FROM pg_constraint AS c
          JOIN idsql.id_strategy AS s ON s.tbl = c.confrelid AND s.strategy = 'server'
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k (child_att, parent_att)
          JOIN pg_attribute AS ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_att
         WHERE c.contype = 'f' AND c.conrelid = TG_RELID
           AND k.parent_att = (idsql._negotiation_key(c.confrelid)).attnum
         ORDER BY c.conname
    LOOP
        v_value := to_jsonb(NEW) ->> v_ref.col;
        CONTINUE WHEN v_value IS NULL OR NOT idsql.is_temp_id(v_ref.parent, v_value);
        PERFORM idsql._lock_temp_id(v_ref.parent, v_value, true);
        SELECT m.permanent_id INTO v_permanent
          FROM idsql.id_mapping AS m
         WHERE m.tbl = v_ref.parent AND m.temp_id = v_value;
        CONTINUE WHEN v_permanent IS NULL;
        IF TG_ARGV[0] = 'reject' THEN
            RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                            TG_TABLE_NAME, v_ref.conname
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (%s)=(%s) was replaced by (%s) in table %s (idsql.id_mapping).',
                                      v_ref.col, v_value, v_permanent, v_ref.parent),
                      HINT = 'Use the permanent ID (resolve_id), or enable late-reference resolution in resolve mode.';
        END IF;
        NEW := jsonb_populate_record(NEW, jsonb_build_object(v_ref.col, v_permanent));
    END LOOP;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION idsql.tg_negotiation_resolve() IS
'Trigger function: rewrite (or refuse, naming the mapping) a foreign key that still carries a replaced temporary ID.';
