CREATE OR REPLACE FUNCTION idsql._own_xid(x xid)
    RETURNS boolean
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return whether x (the xmin of a row the caller is about to update) was
 * written by the current transaction or one of its subtransactions: then the
 * row already counted in this transaction. A row an UPDATE can see was either
 * committed by another transaction or written by this one, so "in progress"
 * means ours. xmin is 32 bits: it is widened to an xid8 next to the current
 * transaction's own, which is at most 2^31 away from any xid it can still see.
 * The row trigger calls this only for rows newer than its transaction start.
 */
DECLARE
    v_top bigint := pg_current_xact_id()::text::bigint;
    v_delta bigint := x::text::bigint - (v_top & 4294967295);
BEGIN
    IF v_delta > 2147483647 THEN
        v_delta := v_delta - 4294967296;
    ELSIF v_delta < -2147483648 THEN
        v_delta := v_delta + 4294967296;
    END IF;
    RETURN pg_xact_status((v_top + v_delta)::text::xid8) = 'in progress';
END
$$;

COMMENT ON FUNCTION idsql._own_xid(xid) IS
'Internal: whether a row''s xmin belongs to the current transaction or one of its subtransactions.';
