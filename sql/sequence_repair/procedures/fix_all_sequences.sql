CREATE OR REPLACE PROCEDURE idsql.fix_all_sequences(
    schemas name[] DEFAULT null,
    margin bigint DEFAULT 0,
    allow_backward boolean DEFAULT false,
    dry_run boolean DEFAULT false
)
    LANGUAGE plpgsql
AS $$
/*
 * The runbook's `make db-fix-sequences`, in the database: fix every sequence
 * behind its data, one at a time, with a NOTICE per fixed sequence in the
 * original format and a summary:
 *     Fixed user.user_id sequence (max: 3, next: 4)
 *     Successfully fixed 1 sequence(s)!
 * Called outside a transaction block (CALL in autocommit), it commits after
 * each sequence, so each table is locked for milliseconds on a live database
 * and a long run keeps what it fixed. Inside a transaction block it runs in
 * the caller's transaction and commits nothing. Tables it cannot lock within
 * lock_timeout are reported with a WARNING and skipped.
 *
 * Those per-sequence commits run with synchronous_commit off (set locally to
 * each of them): waiting for a WAL flush per table would cost a disk flush per
 * table, 10,000 of them for 10,000 tables, and buys nothing: the run ends with
 * one durable commit whose flush covers every fix before it, so when CALL
 * returns everything it fixed is on disk. A crash in the middle loses at most
 * the last few fixes, and running it again redoes them.
 *
 * No SET search_path here, unlike every idsql function: PostgreSQL forbids
 * COMMIT in a procedure that has a SET clause. Instead this body names only
 * schema-qualified idsql functions (each pinned to pg_catalog, pg_temp) and
 * the one operator it needs as OPERATOR(pg_catalog.+), so the caller's
 * search_path cannot redirect anything.
 */
DECLARE
    v_commit boolean := idsql._outside_transaction_block();
    v_group record;
    v_fix record;
    v_fixed integer := 0;
BEGIN
    PERFORM idsql._check_fix_arguments(fix_all_sequences.margin, fix_all_sequences.allow_backward,
                                       fix_all_sequences.dry_run);
    FOR v_group IN SELECT * FROM idsql._sequence_groups(fix_all_sequences.schemas) LOOP
        IF v_commit THEN
            -- Each fix commits without waiting for its WAL flush; see the purpose block.
            PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
        END IF;
        v_fix := idsql._fix_sequence_group(v_group.sequence_name, v_group.tables, v_group.columns,
                                           v_group.column_types, v_group.label, fix_all_sequences.margin,
                                           fix_all_sequences.allow_backward, fix_all_sequences.dry_run);
        IF v_fix.notice IS NOT NULL THEN
            RAISE NOTICE '%', v_fix.notice;
        END IF;
        IF v_fix.warning IS NOT NULL THEN
            RAISE WARNING '%', v_fix.warning;
        END IF;
        v_fixed := v_fixed OPERATOR(pg_catalog.+) v_fix.fixed;
        IF v_commit THEN
            COMMIT;
        END IF;
    END LOOP;
    IF v_commit THEN
        -- An XID makes the final commit (at the end of CALL, with the caller's synchronous_commit)
        -- write a commit record and flush the WAL up to it, every fix before it included.
        PERFORM pg_catalog.pg_current_xact_id();
    END IF;
    RAISE NOTICE '%', idsql._fix_summary(v_fixed, fix_all_sequences.dry_run);
END
$$;

COMMENT ON PROCEDURE idsql.fix_all_sequences(name[], bigint, boolean, boolean) IS  -- noqa: LT01
'Fix every sequence behind its data, committing after each when called outside a transaction block; NOTICE per fix.';
