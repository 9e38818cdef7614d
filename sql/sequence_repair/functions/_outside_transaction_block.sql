CREATE OR REPLACE FUNCTION idsql._outside_transaction_block()
    RETURNS boolean
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Whether the current statement started the transaction, as a CALL sent in
 * autocommit mode does: then a procedure may COMMIT. Inside BEGIN ... CALL the
 * transaction started with an earlier statement. PostgreSQL offers no direct
 * test, and a failed COMMIT cannot be caught (a block with an exception
 * handler forbids transaction control). Limits, both on the safe side but one:
 * a CALL sent through the extended protocol (with bound parameters) starts
 * its transaction at Parse, before the statement's own start, so it is taken
 * as inside a block and runs in one transaction, committing nothing; send
 * CALL as a plain statement (psql does) for per-sequence commits. And BEGIN
 * and CALL sent in one multi-statement query string share a start time, so
 * CALL is taken as outside the block and its first COMMIT fails with
 * "invalid transaction termination": send them as separate statements.
 */
    SELECT statement_timestamp() = transaction_timestamp()
$$;

COMMENT ON FUNCTION idsql._outside_transaction_block() IS
'True when the current statement started the transaction (an autocommit CALL), so a procedure may commit.';
