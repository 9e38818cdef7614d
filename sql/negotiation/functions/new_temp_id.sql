CREATE OR REPLACE FUNCTION idsql.new_temp_id(tbl regclass)
    RETURNS text
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return a temporary ID for a row of tbl that can never equal a permanent one,
 * and record it in idsql.temp_id:
 *   text keys    'tmp_' + a CUID-style body: 9 base-36 characters of Unix
 *                milliseconds (so IDs sort by creation) and 16 random ones
 *                (82 bits from gen_random_uuid());
 *   integer keys a negative number from idsql.temp_id_seq (permanent IDs
 *                count up from 1);
 *   uuid keys    a random UUID with version 8 (RFC 9562 "custom"): server
 *                generators make versions 4 and 7, never 8.
 * Offline clients make IDs of the same shapes; is_temp_id() recognises both.
 */
DECLARE
    c_digits CONSTANT text := '0123456789abcdefghijklmnopqrstuvwxyz';
    v_kind text;
    v_ms bigint;
    v_bytes bytea;
    v_body text := '';
    v_id text;
BEGIN
    v_kind := (idsql._negotiation_key(new_temp_id.tbl)).kind;
    IF v_kind = 'integer' THEN
        v_id := nextval('idsql.temp_id_seq'::regclass)::text;
    ELSIF v_kind = 'uuid' THEN
        v_id := overlay(gen_random_uuid()::text PLACING '8' FROM 15 FOR 1);
    ELSE
        v_ms := floor(extract(EPOCH FROM clock_timestamp()) * 1000)::bigint;
        FOR i IN 1..9 LOOP
            v_body := substr(c_digits, (v_ms % 36)::integer + 1, 1) || v_body;
            v_ms := v_ms / 36;
        END LOOP;
        -- Bytes 6 and 8 of a version 4 UUID carry fixed bits: skip them.
        v_bytes := uuid_send(gen_random_uuid());
        FOR i IN 0..15 LOOP
            CONTINUE WHEN i IN (6, 8);
            v_body := v_body || substr(c_digits, get_byte(v_bytes, i) % 36 + 1, 1);
        END LOOP;
        v_bytes := uuid_send(gen_random_uuid());
        v_body := v_body || substr(c_digits, get_byte(v_bytes, 0) % 36 + 1, 1)
                         || substr(c_digits, get_byte(v_bytes, 1) % 36 + 1, 1);
        v_id := 'tmp_' || v_body;
    END IF;
    INSERT INTO idsql.temp_id (tbl, temp_id) VALUES (new_temp_id.tbl, v_id);
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION idsql.new_temp_id(regclass) IS
'Return a temporary ID for a row of the table that can never equal a permanent one (tmp_..., negative, or a version 8 UUID).';
