-- Version guard of the plain scripts (psql, CLI): refuse to run an install script over another
-- version, or an upgrade step over anything but the version it starts from. The channel sets
-- idsql.upgrade_from ('' for an install script) and idsql.target_version with SET LOCAL first.
DO $idsql$
DECLARE
    v_target text := pg_catalog.current_setting('idsql.target_version');
    v_from text := nullif(pg_catalog.current_setting('idsql.upgrade_from'), '');
    v_installed text;
    v_hint text;
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'idsql') THEN
        RAISE EXCEPTION 'idsql is installed as an extension'
            USING ERRCODE = 'ID902',  -- channel_mismatch
                  DETAIL = 'This script is for a plain install; the extension''s objects change only through ALTER EXTENSION.',
                  HINT = pg_catalog.format('Upgrade it with ALTER EXTENSION idsql UPDATE TO %L, or pyidsql install.',
                                           v_target);
    END IF;
    IF pg_catalog.to_regclass('idsql.installation') IS NOT NULL THEN
        SELECT i.version INTO v_installed FROM idsql.installation AS i;
    END IF;
    -- A fresh install, an install script run again, or the step from the version it starts at.
    IF v_installed IS NOT DISTINCT FROM v_from
       OR (v_from IS NULL AND v_installed OPERATOR(pg_catalog.=) v_target) THEN
        RETURN;
    END IF;
    IF v_installed IS NULL THEN
        v_hint := 'Install it first: pyidsql sql | psql, or pyidsql install.';
    ELSIF v_installed OPERATOR(pg_catalog.=) v_target THEN
        v_hint := 'Nothing to do: it is up to date.';
    ELSIF pg_catalog.string_to_array(v_installed, '.')::integer []
          OPERATOR(pg_catalog.<) pg_catalog.string_to_array(v_target, '.')::integer [] THEN
        v_hint := pg_catalog.format('Upgrade it: pyidsql sql --from %s | psql, or pyidsql install.', v_installed);
    ELSE
        v_hint := pg_catalog.format('Use pyidsql %s or later, which knows that version.', v_installed);
    END IF;
    RAISE EXCEPTION 'idsql % is installed, this script expects %', coalesce(v_installed, '(none)'),
        coalesce(v_from, 'no install or ' OPERATOR(pg_catalog.||) v_target)
        USING ERRCODE = 'ID901',  -- version_mismatch
              DETAIL = pg_catalog.format('The script installs idsql %s%s.', v_target,
                                         coalesce(' over ' OPERATOR(pg_catalog.||) v_from, '')),
              HINT = v_hint;
END
$idsql$;
