CREATE OR REPLACE FUNCTION idsql._uuidv7()
    RETURNS uuid
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return a version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then
 * random bits. PostgreSQL 18 has uuidv7(), which is used when present (through
 * EXECUTE, so that this function also compiles on 15-17); before 18 the
 * timestamp is laid over the bytes of gen_random_uuid() and the version
 * nibble set to 7 (the variant bits of gen_random_uuid() are already RFC).
 */
DECLARE
    v_bytes bytea;
    v_ms bigint;
    v_result uuid;
BEGIN
    IF current_setting('server_version_num')::integer >= 180000 THEN
        -- Through format(): a literal would be checked (and fail) on 15-17 by plpgsql_check.
        EXECUTE format('SELECT pg_catalog.%I()', 'uuidv7') INTO v_result;
        RETURN v_result;
    END IF;
    v_ms := floor(extract(EPOCH FROM clock_timestamp()) * 1000)::bigint;
    v_bytes := overlay(uuid_send(gen_random_uuid())
                       PLACING substring(int8send(v_ms) FROM 3 FOR 6) FROM 1 FOR 6);
    v_bytes := set_byte(v_bytes, 6, (get_byte(v_bytes, 6) & 15) | 112);
    RETURN encode(v_bytes, 'hex')::uuid;
END
$$;

COMMENT ON FUNCTION idsql._uuidv7() IS
'Internal: a version 7 UUID; the built-in uuidv7() on PostgreSQL 18, a PL/pgSQL equivalent before.';
