-- The privilege model (docs/privileges.md): EXECUTE on every function is PUBLIC's by
-- PostgreSQL's default, and USAGE on schema idsql (grant_access) decides who reaches them.
-- These administrative ones are revoked from PUBLIC, so usage alone never reaches them;
-- grant_access(role, admin => true) grants them back. Their owner keeps them.
REVOKE EXECUTE ON FUNCTION idsql.reset_sequence(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.configure_prefix(text, text, integer, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.sync_prefix(text, regclass, name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.initialize_table(regclass, name, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.initialize(regclass[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.fix_sequence(regclass, name, bigint, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.fix_all_sequences_report(name[], bigint, boolean, boolean) FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE idsql.fix_all_sequences(name[], bigint, boolean, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.set_id_strategy(regclass, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.enable_late_reference_resolution(regclass, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.disable_late_reference_resolution(regclass) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.enable_state_version(regclass, name, regclass, name, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.disable_state_version(regclass) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.prune_history(regclass, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION idsql.grant_access(regrole, boolean) FROM PUBLIC;
