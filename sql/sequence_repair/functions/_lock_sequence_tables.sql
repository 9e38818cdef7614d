CREATE OR REPLACE FUNCTION idsql._lock_sequence_tables(tables regclass[])
    RETURNS regclass
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Lock every table that draws from one sequence in SHARE ROW EXCLUSIVE mode:
 * writers wait, readers do not, and no insert can land between reading the
 * max and setting the sequence. The caller passes them in OID order, so two
 * fixes cannot deadlock on each other. Waits at most lock_timeout per table;
 * on a timeout (or a deadlock) returns the table it could not lock and holds
 * none of them, so the caller reports it and goes on with the next sequence.
 * Returns NULL when all are locked (until the end of the transaction).
 *
 * The EXCEPTION block is a subtransaction, once per sequence. That is
 * acceptable here: this is a maintenance run, not a hot path, and the block
 * only takes locks, so it is never assigned a transaction ID (no subtrans
 * SLRU traffic, no PGPROC subxid cache overflow however many tables).
 */
DECLARE
    v_table regclass;
BEGIN
    BEGIN
        FOREACH v_table IN ARRAY _lock_sequence_tables.tables LOOP
            EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', v_table);
        END LOOP;
    EXCEPTION WHEN lock_not_available OR deadlock_detected THEN
        RETURN v_table;
    END;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION idsql._lock_sequence_tables(regclass[]) IS
'Lock the tables of one sequence against writers within lock_timeout; return the first it could not lock, else NULL.';
