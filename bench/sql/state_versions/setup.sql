-- Prepare a database for bench/state_versions.py: run after installing idsql (pyidsql install).
-- Seven copies of one table, 100,000 rows each, differing only in their triggers.
CREATE TABLE sv_plain (id integer PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1, n integer NOT NULL, payload text);
INSERT INTO sv_plain SELECT g, 1, 0, md5(g::text) FROM generate_series(1, 100000) AS g;
CREATE TABLE sv_min (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_min SELECT * FROM sv_plain;
CREATE TABLE sv_ver (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_ver SELECT * FROM sv_plain;
CREATE TABLE sv_hist (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_hist SELECT * FROM sv_plain;

-- The floor for a pure-SQL toolkit: the smallest PL/pgSQL trigger that bumps a version.
CREATE FUNCTION sv_min_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.state_version := OLD.state_version + 1;
    RETURN NEW;
END
$$;
CREATE TRIGGER sv_min_bump BEFORE UPDATE ON sv_min FOR EACH ROW EXECUTE FUNCTION sv_min_bump();

-- The floor of any history kept by SQL triggers: that bump, plus one statement trigger copying the
-- changed rows as jsonb into a table with no key and no index (nothing could read it by row or root).
CREATE TABLE sv_floor (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_floor SELECT * FROM sv_plain;
CREATE TABLE sv_floor_history (row_data jsonb NOT NULL);
CREATE FUNCTION sv_floor_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sv_floor_history SELECT to_jsonb(r) FROM sv_floor_new AS r;
    RETURN NULL;
END
$$;
CREATE TRIGGER sv_floor_bump BEFORE UPDATE ON sv_floor FOR EACH ROW EXECUTE FUNCTION sv_min_bump();
CREATE TRIGGER sv_floor_record AFTER UPDATE ON sv_floor REFERENCING NEW TABLE AS sv_floor_new
    FOR EACH STATEMENT EXECUTE FUNCTION sv_floor_record();

-- The smallest history that can be read by row: that bump, plus one statement trigger copying the
-- changed rows as typed rows (no jsonb) into a table with one index, on the row's key and version.
CREATE TABLE sv_keyed (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_keyed SELECT * FROM sv_plain;
CREATE TABLE sv_keyed_history (LIKE sv_plain);
CREATE INDEX ON sv_keyed_history (id, state_version);
CREATE FUNCTION sv_keyed_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sv_keyed_history SELECT * FROM sv_keyed_new;
    RETURN NULL;
END
$$;
CREATE TRIGGER sv_keyed_bump BEFORE UPDATE ON sv_keyed FOR EACH ROW EXECUTE FUNCTION sv_min_bump();
CREATE TRIGGER sv_keyed_record AFTER UPDATE ON sv_keyed REFERENCING NEW TABLE AS sv_keyed_new
    FOR EACH STATEMENT EXECUTE FUNCTION sv_keyed_record();

SELECT idsql.enable_state_version('sv_ver');
SELECT idsql.enable_state_version('sv_hist', history => true);

-- children_as_of: one session, 1,000 entities, 100 versions (filled by bench/state_versions.py).
CREATE TABLE sv_session (session_id text PRIMARY KEY, state_version bigint NOT NULL DEFAULT 1);
CREATE TABLE sv_entity (
    entity_id integer PRIMARY KEY,
    session_id text NOT NULL REFERENCES sv_session,
    name text,
    state_version bigint NOT NULL DEFAULT 1
);
-- Its foreign key has an index, as most do: children_as_of reads the rows under the session now.
CREATE INDEX sv_entity_session_id_idx ON sv_entity (session_id);
-- The same history under session 'bare' in a copy whose foreign key has none: children_as_of then
-- reads the history alone (for reference).
CREATE TABLE sv_entity_bare (LIKE sv_entity INCLUDING ALL);
DROP INDEX sv_entity_bare_session_id_idx;
ALTER TABLE sv_entity_bare ADD FOREIGN KEY (session_id) REFERENCES sv_session;
SELECT idsql.enable_state_version('sv_session', history => true);
SELECT idsql.enable_state_version('sv_entity', parent => 'sv_session', history => true);
SELECT idsql.enable_state_version('sv_entity_bare', parent => 'sv_session', history => true);
INSERT INTO sv_session VALUES ('asof', 1), ('diff', 1), ('bare', 1);
INSERT INTO sv_entity SELECT g, 'asof', 'v1', 1 FROM generate_series(1, 1000) AS g;
INSERT INTO sv_entity_bare SELECT g, 'bare', 'v1', 1 FROM generate_series(1, 1000) AS g;
-- children_as_of_time: the server's clock between session versions 50 and 51 (written by the bench).
CREATE TABLE sv_asof_at (at timestamptz NOT NULL);
-- changes_between: 10,000 rows under another session, all changed in one version (by the bench).
INSERT INTO sv_entity SELECT g, 'diff', 'v1', 1 FROM generate_series(100001, 110000) AS g;
