CREATE OR REPLACE FUNCTION idsql.id_health_check()
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Prove that an ID can be generated, and report it, without keeping anything:
 * the probe runs in a subtransaction that is always rolled back, so no row,
 * counter or prefix is left behind. A failure is reported (status
 * "unhealthy", with the error) rather than raised.
 */
DECLARE
    c_probe CONSTANT text := 'idsql health check probe: roll back';
    v_id text;
    v_state text;
    v_error text;
    v_count bigint;
BEGIN
    SELECT count(*) INTO v_count FROM idsql.prefix_counter AS c WHERE c.prefix <> '_HEALTH_CHECK_';
    BEGIN
        v_id := idsql.generate_id('_HEALTH_CHECK_');
        RAISE EXCEPTION USING MESSAGE = c_probe;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_error = MESSAGE_TEXT;
    END;
    RETURN jsonb_build_object(
        'status', CASE WHEN v_error = c_probe THEN 'healthy' ELSE 'unhealthy' END,
        'message', CASE WHEN v_error = c_probe
                        THEN 'idsql prefixed IDs are operational'
                        ELSE format('generate_id failed: %s (SQLSTATE %s)', v_error, v_state) END,
        'prefix_count', v_count,
        'test_id_generated', v_id,
        'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    );
END
$$;

COMMENT ON FUNCTION idsql.id_health_check() IS
'Generate a probe ID and roll it back; returns {status, message, prefix_count, test_id_generated, timestamp}.';
