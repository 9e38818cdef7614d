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
 * handler forbids transaction control). Known limit: BEGIN and CALL sent in
 * one multi-statement query string share a start time and would be taken as
 * outside a block; send them as separate statements, as drivers do.
 */
    SELECT statement_timestamp() = transaction_timestamp()
$$;

COMMENT ON FUNCTION idsql._outside_transaction_block() IS
'True when the current statement started the transaction (an autocommit CALL), so a procedure may commit.';
