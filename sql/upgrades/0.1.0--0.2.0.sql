-- idsql 0.1.0 -> 0.2.0: what re-running the install script of 0.2.0 cannot do by itself.
--
-- 0.2.0 adds idsql.grant_access and the privilege model (EXECUTE on the administrative functions
-- revoked from PUBLIC; generate_id and bulk_generate_ids run with their owner's rights), all of
-- which the install script creates or replaces. It also takes out of the install script the
-- in-place upgrade of table_counter from the layout before the sequences, which a database that
-- calls itself 0.1.0 may still have (a build from before 0.1.0 was cut): it moves here.
SET LOCAL client_min_messages = warning;

-- An install from before the sequences kept the last ID issued in a column last_value: give each
-- counter its sequence at that value, then drop the column. Does nothing on a current install.
ALTER TABLE idsql.table_counter ADD COLUMN IF NOT EXISTS seq regclass;
DO $$
DECLARE
    v_table regclass;
    v_last bigint;
    v_seq regclass;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_attribute AS a
                    WHERE a.attrelid = 'idsql.table_counter'::pg_catalog.regclass
                      AND a.attname = 'last_value' AND NOT a.attisdropped) THEN
        RETURN;
    END IF;
    FOR v_table, v_last IN EXECUTE 'SELECT table_name, last_value FROM idsql.table_counter WHERE seq IS NULL' LOOP
        EXECUTE pg_catalog.format('CREATE SEQUENCE IF NOT EXISTS idsql.%I AS bigint MINVALUE 1 START 1 NO CYCLE',
                                  pg_catalog.format('table_%s_seq', v_table::pg_catalog.oid));
        v_seq := pg_catalog.to_regclass(pg_catalog.format('idsql.table_%s_seq', v_table::pg_catalog.oid));
        PERFORM pg_catalog.setval(v_seq, GREATEST(v_last, 1), v_last >= 1);
        EXECUTE pg_catalog.format('COMMENT ON SEQUENCE %s IS %L', v_seq,
                                  pg_catalog.format('IDs of table %s (see idsql.table_counter).', v_table));
        UPDATE idsql.table_counter AS c SET seq = v_seq WHERE c.table_name = v_table;
    END LOOP;
    ALTER TABLE idsql.table_counter DROP COLUMN last_value;
    ALTER TABLE idsql.table_counter ALTER COLUMN seq SET NOT NULL;
    ALTER TABLE idsql.table_counter ADD CONSTRAINT table_counter_seq_key UNIQUE (seq);
END
$$;

-- 0.2.0 gives _state_version_history two arguments (how the generated triggers name their tables,
-- by TG_RELID rather than OID constants) and _state_version_after_function one (the name of the
-- function, which no longer always carries the table's OID): the 0.1.0 signatures go.
DROP FUNCTION IF EXISTS idsql._state_version_history(regclass, regclass, text, text, text);
DROP FUNCTION IF EXISTS idsql._state_version_after_function(regclass);

-- 0.1.0 cached the ids of row_version, 1000 per session, so between sessions they do not follow the
-- order of writing; from 0.2.0 they do (sql/state_versions/tables/row_version.sql). row_history orders the older
-- entries as 0.1.0 did: it needs to know where they end, which is past every id any session could
-- have taken from its cache. The table is the install script's (sql/state_versions/tables/history_order.sql),
-- which runs after this part. A sequence never used has no such entries: then no row, as in a fresh
-- install (CREATE EXTENSION through pg_tle runs the first release and this step; so does the
-- restore of its dump, whose own row of history_order then follows).
CREATE TABLE IF NOT EXISTS idsql.history_order (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT history_order_singleton_check CHECK (singleton),
    cached_below bigint NOT NULL
);
DO $$
DECLARE
    v_next bigint;
BEGIN
    EXECUTE pg_catalog.format('SELECT last_value + 1 FROM %s WHERE is_called',
                              pg_catalog.pg_get_serial_sequence('idsql.row_version', 'id'))
       INTO v_next;
    IF v_next IS NOT NULL THEN
        INSERT INTO idsql.history_order (cached_below) VALUES (v_next)
            ON CONFLICT (singleton) DO NOTHING;
    END IF;
END
$$;
