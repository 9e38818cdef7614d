-- A table with 100,000 rows and a typed history of 10,000,000 entries (100 versions each, over
-- the 10 days before today) in daily partitions, with the bump trigger and a typed writer
-- (docs/design/typed-history.md, Retention by time). Needs idsql installed; about a minute.
DROP TABLE IF EXISTS rt, rt_history CASCADE; DROP FUNCTION IF EXISTS rt_record();
CREATE TABLE rt (id integer PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1, n integer NOT NULL, payload text);
INSERT INTO rt SELECT i, 100, 100, md5(i::text) FROM generate_series(1, 100000) AS i;
SELECT idsql.enable_state_version('rt');
CREATE TABLE rt_history (
    _id bigint GENERATED ALWAYS AS IDENTITY, _op "char" NOT NULL,
    _changed_at timestamptz NOT NULL DEFAULT now(), _xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    id integer, state_version bigint, n integer, payload text
) PARTITION BY RANGE (_changed_at);
CREATE INDEX ON rt_history (id, state_version);
DO $$
BEGIN
    FOR d IN 0..10 LOOP
        EXECUTE format('CREATE TABLE rt_history_d%s PARTITION OF rt_history FOR VALUES FROM (%L) TO (%L)', d,
                       date_trunc('day', now()) - make_interval(days => 10 - d),
                       date_trunc('day', now()) - make_interval(days => 9 - d));
    END LOOP;
    CREATE TABLE rt_history_future PARTITION OF rt_history FOR VALUES FROM (date_trunc('day', now()) + interval '1 day') TO (MAXVALUE);
END $$;
-- 10,000,000 entries over the 10 past days: each row 100 versions, 10 a day.
INSERT INTO rt_history (_op, _changed_at, _xid, id, state_version, n, payload)
SELECT 'U', date_trunc('day', now()) - interval '10 days' + (v - 1) * interval '2.4 hours' + (i % 1000) * interval '1 second',
       '1'::xid8, i, v, v, md5(i::text)
  FROM generate_series(1, 100) AS v, generate_series(1, 100000) AS i;
CREATE FUNCTION rt_record() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.rt_history (_op, id, state_version, n, payload) SELECT 'U', r.id, r.state_version, r.n, r.payload FROM rt_new AS r;
    RETURN NULL;
END $$;
CREATE TRIGGER rt_record AFTER UPDATE ON rt REFERENCING NEW TABLE AS rt_new FOR EACH STATEMENT EXECUTE FUNCTION rt_record();

VACUUM ANALYZE rt, rt_history;
