CREATE OR REPLACE FUNCTION idsql.grant_access(grantee regrole, admin boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Let a role use idsql. Usage: generate and read IDs, draw table IDs of
 * registered tables, negotiate IDs and work the sync queue, write tables
 * under state versions and read their history. Administration (admin =>
 * true) adds the functions whose EXECUTE is revoked from PUBLIC (reset,
 * configure, sync and register counters, fix sequences, set strategies,
 * enable or disable late references and state versions, prune history,
 * grant_access itself), every privilege on idsql's tables and sequences, and
 * CREATE on the schema (registering a table or a fast prefix creates a
 * sequence, state versions create trigger functions).
 *
 * Usage never includes writing a counter: generate_id and bulk_generate_ids
 * run with their owner's rights, and sequences get USAGE, not UPDATE. Objects
 * created later get the same grants (_share_sequence). Only the owner of
 * idsql's objects (or a role with the grant option) can run it.
 */
DECLARE
    v_role text := grant_access.grantee::text;  -- regrole output: quoted as needed
BEGIN
    IF grant_access.grantee IS NULL OR grant_access.admin IS NULL THEN
        RAISE EXCEPTION 'grantee and admin must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name an existing role, for example grant_access(''app_user'').';
    END IF;
    -- '-' and bare numbers pass as regrole without naming a role; their text is no role name.
    IF NOT EXISTS (SELECT FROM pg_roles AS r WHERE r.oid = grant_access.grantee) THEN
        RAISE EXCEPTION 'role with OID % does not exist', grant_access.grantee::oid
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name an existing role, for example grant_access(''app_user'').';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA idsql TO %s', v_role);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA idsql TO %s', v_role);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA idsql TO %s', v_role);
    -- ID negotiation and the sync queue keep their state in these tables.
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON idsql.temp_id, idsql.id_mapping, idsql.id_change_log, '
                   'idsql.sync_queue TO %s', v_role);
    -- Triggers of tables under state versions write the history as the writing role.
    EXECUTE format('GRANT INSERT ON idsql.row_version TO %s', v_role);
    -- insert_with_retry counts the IDs it found taken.
    EXECUTE format('GRANT UPDATE (conflicts) ON idsql.table_counter TO %s', v_role);
    IF grant_access.admin THEN
        EXECUTE format('GRANT CREATE ON SCHEMA idsql TO %s', v_role);
        EXECUTE format('GRANT ALL ON ALL TABLES IN SCHEMA idsql TO %s', v_role);
        EXECUTE format('GRANT ALL ON ALL SEQUENCES IN SCHEMA idsql TO %s', v_role);
        EXECUTE format('GRANT EXECUTE ON ALL ROUTINES IN SCHEMA idsql TO %s', v_role);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql.grant_access(regrole, boolean) IS
'Let a role generate and read IDs (usage), or also administer idsql (admin => true): the privilege model of docs/privileges.md.';
