CREATE OR REPLACE FUNCTION idsql.generate_id(prefix text)
    RETURNS text
    LANGUAGE plpgsql
    VOLATILE
    -- SECURITY DEFINER: a role granted only usage (grant_access) may draw IDs but must not
    -- write idsql.prefix_counter itself, or it could move a counter back; this function
    -- writes only the row of its (checked) prefix, with its owner's rights.
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the next ID for a prefix, e.g. 'CUS' -> 'CUS-AAA0001'; the first call
 * creates the prefix (gapless, 4 digits, 3 letters).
 *
 * Gapless mode: one UPDATE of the counter row, which stays locked until the
 * caller's transaction ends, so concurrent callers of one prefix queue (and
 * honour lock_timeout) and a rollback gives the number back. Under REPEATABLE
 * READ or SERIALIZABLE a concurrent caller gets 40001: retry the transaction.
 * Fast mode: nextval() on the prefix's sequence; never waits, a rollback
 * leaves a hole. The UPDATE only matches gapless rows, so a caller that read
 * the mode just before it changed loops once and reads it again.
 */
DECLARE
    v_id text;
BEGIN
    -- Each path is one statement that also formats the ID: in a short
    -- transaction, every further PL/pgSQL expression costs as much as the
    -- lookup itself (expressions are set up again in each transaction).
    LOOP
        -- nextval() in a subquery, so that the formatting is inlined around a plain column.
        SELECT idsql._format_ordinal(c.prefix, c.ordinal, c.digits, c.min_letters)
          INTO v_id
          FROM (SELECT f.prefix, nextval(f.fast_seq) AS ordinal, f.digits, f.min_letters
                  FROM idsql.prefix_counter AS f
                 WHERE f.prefix = generate_id.prefix AND f.mode = 'fast') AS c;
        EXIT WHEN FOUND;
        UPDATE idsql.prefix_counter AS c
           SET last_value = c.last_value + 1,
               updated_at = now()
         WHERE c.prefix = generate_id.prefix AND c.mode = 'gapless'
        RETURNING idsql._format_ordinal(c.prefix, c.last_value, c.digits, c.min_letters)
             INTO v_id;
        EXIT WHEN FOUND;
        -- First use of the prefix (or it just turned fast: loop).
        PERFORM idsql._check_prefix(generate_id.prefix);
        INSERT INTO idsql.prefix_counter AS c (prefix, last_value)
        VALUES (generate_id.prefix, 1)
        ON CONFLICT ON CONSTRAINT prefix_counter_pkey DO UPDATE
            SET last_value = c.last_value + 1,
                updated_at = now()
            WHERE c.mode = 'gapless'
        RETURNING idsql._format_ordinal(c.prefix, c.last_value, c.digits, c.min_letters)
             INTO v_id;
        EXIT WHEN FOUND;
    END LOOP;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION idsql.generate_id(text) IS
'Return the next ID for a prefix, e.g. CUS-AAA0001; creates the prefix on first use; atomic under any concurrency.';
