CREATE OR REPLACE FUNCTION idsql._share_sequence(p_seq regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Give a sequence that idsql just created at run time (a fast-mode prefix, a
 * registered table) the privileges grant_access() gave on the sequences that
 * existed then: roles with CREATE on schema idsql (administrators) get ALL,
 * roles with only USAGE get USAGE and SELECT (nextval, never setval). The
 * owner of idsql.prefix_counter gets ALL too: generate_id() runs with its
 * rights. The caller created the sequence, so it owns it and may grant.
 */
DECLARE
    v_owner oid;
    v_grantee oid;
    v_admin boolean;
BEGIN
    SELECT c.relowner INTO v_owner FROM pg_class AS c WHERE c.oid = 'idsql.prefix_counter'::regclass;
    IF v_owner <> (SELECT r.oid FROM pg_roles AS r WHERE r.rolname = current_user) THEN
        EXECUTE format('GRANT ALL ON SEQUENCE %s TO %I', p_seq, pg_get_userbyid(v_owner));
    END IF;
    FOR v_grantee, v_admin IN
        SELECT a.grantee, bool_or(a.privilege_type = 'CREATE')
          FROM pg_namespace AS n, aclexplode(n.nspacl) AS a
         WHERE n.nspname = 'idsql' AND a.grantee <> n.nspowner
         GROUP BY a.grantee
    LOOP
        IF v_grantee = 0 THEN  -- PUBLIC, in an ACL
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO PUBLIC', p_seq);
        ELSIF v_admin THEN
            EXECUTE format('GRANT ALL ON SEQUENCE %s TO %I', p_seq, pg_get_userbyid(v_grantee));
        ELSE
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', p_seq, pg_get_userbyid(v_grantee));
        END IF;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._share_sequence(regclass) IS
'Internal: grant on a sequence created at run time what grant_access() granted on the others.';
