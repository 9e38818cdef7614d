-- Prototypes of the typed history writer (docs/design/typed-history.md), on top of
-- bench/sql/state_versions/setup.sql: sv_typed records into a typed table, sv_heal does the same
-- behind the self-repairing first statement (here it only raises).
CREATE TABLE sv_typed (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_typed SELECT * FROM sv_plain;
SELECT idsql.enable_state_version('sv_typed');
CREATE TABLE sv_typed_history (
    LIKE sv_plain,
    _op "char" NOT NULL,
    _changed_at timestamptz NOT NULL DEFAULT now(),
    _xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
ALTER TABLE sv_typed_history ALTER COLUMN id DROP NOT NULL, ALTER COLUMN state_version DROP NOT NULL,
    ALTER COLUMN n DROP NOT NULL;
CREATE INDEX ON sv_typed_history (id, state_version);
CREATE FUNCTION sv_typed_record() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.sv_typed_history (id, state_version, n, payload, _op)
    SELECT r.id, r.state_version, r.n, r.payload, 'U' FROM sv_typed_new AS r;
    RETURN NULL;
END
$$;
CREATE TRIGGER sv_typed_record AFTER UPDATE ON sv_typed REFERENCING NEW TABLE AS sv_typed_new
    FOR EACH STATEMENT EXECUTE FUNCTION sv_typed_record();

-- The columns of a table, as the writer's check compares them.
CREATE FUNCTION proto_shape(regclass) RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT string_agg(format('%s:%s:%s', a.attname, a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
      FROM pg_attribute AS a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
$$;
CREATE FUNCTION proto_shape_is(regclass, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT public.proto_shape($1) = $2
$$;

CREATE TABLE sv_heal (LIKE sv_plain INCLUDING ALL);
INSERT INTO sv_heal SELECT * FROM sv_plain;
SELECT idsql.enable_state_version('sv_heal');
CREATE TABLE sv_heal_history (LIKE sv_typed_history INCLUDING DEFAULTS);
CREATE INDEX ON sv_heal_history (id, state_version);
DO $generate$
BEGIN
    EXECUTE format($f$
CREATE FUNCTION sv_heal_record() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (SELECT public.proto_shape_is('public.sv_heal'::regclass, %L) FROM sv_heal_new LIMIT 1) THEN
        INSERT INTO public.sv_heal_history (id, state_version, n, payload, _op)
        SELECT r.id, r.state_version, r.n, r.payload, 'U' FROM sv_heal_new AS r;
    ELSE
        RAISE EXCEPTION 'here the history table would be brought up to date';
    END IF;
    RETURN NULL;
END
$$ $f$, proto_shape('sv_heal'));
END
$generate$;
CREATE TRIGGER sv_heal_record AFTER UPDATE ON sv_heal REFERENCING NEW TABLE AS sv_heal_new
    FOR EACH STATEMENT EXECUTE FUNCTION sv_heal_record();
