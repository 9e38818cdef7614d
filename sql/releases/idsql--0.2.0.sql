-- idsql 0.2.0: install script for the idsql schema.
-- Generated from sql/ in the order of sql/manifest.txt (make release-scripts); do not edit.
-- Every statement can run over an existing install of this version: running it again is harmless.

-- core/schema.sql
-- Re-running the script is normal: keep "already exists, skipping" notices quiet.
SET LOCAL client_min_messages = warning;

-- Serialise concurrent installs: CREATE OR REPLACE on the same function from two
-- sessions fails with "tuple concurrently updated".
DO $$
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('idsql install'));
END
$$;

CREATE SCHEMA IF NOT EXISTS idsql;

COMMENT ON SCHEMA idsql IS
'pyidsql: ID logic kept inside PostgreSQL (prefixed IDs, table IDs, sequence repair, state versions, ID negotiation).';

-- core/tables/installation.sql
CREATE TABLE IF NOT EXISTS idsql.installation (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT installation_singleton_check CHECK (singleton),
    version text NOT NULL,
    channel text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now(),
    upgraded_at timestamptz
);

COMMENT ON TABLE idsql.installation IS
'One row: the pyidsql version installed in this database and the channel that installed it.';
COMMENT ON COLUMN idsql.installation.singleton IS 'Always true: keeps the table to one row.';
COMMENT ON COLUMN idsql.installation.version IS 'Installed pyidsql version, e.g. 0.1.0.';
COMMENT ON COLUMN idsql.installation.channel IS 'How it was installed: cli, alembic, psql, extension or pg_tle.';
COMMENT ON COLUMN idsql.installation.installed_at IS 'When idsql was first installed.';
COMMENT ON COLUMN idsql.installation.upgraded_at IS 'When the install script last ran over an existing install.';

-- core/functions/_citus_table.sql
CREATE OR REPLACE FUNCTION idsql._citus_table(
    tbl regclass,
    OUT kind text,
    OUT distribution_column name
)
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * How Citus holds a table: kind 'distributed' (with its distribution column,
 * NULL for a single-shard table), 'reference' or 'citus local'; both NULL for
 * a table Citus does not manage, and on a server without Citus. Dynamic SQL,
 * since Citus's catalog exists only where Citus is installed.
 */
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format($q$
        SELECT CASE WHEN p.partmethod <> 'n' OR p.colocationid <> 0 AND p.repmodel = 's' THEN 'distributed'
                    WHEN p.repmodel = 't' THEN 'reference'
                    ELSE 'citus local' END,
               CASE WHEN p.partkey IS NOT NULL THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END
          FROM %s AS p
         WHERE p.logicalrelid = $1
    $q$, 'pg_catalog.pg_dist_partition') INTO _citus_table.kind, _citus_table.distribution_column USING _citus_table.tbl;
END
$$;

COMMENT ON FUNCTION idsql._citus_table(regclass) IS
'How Citus holds a table (distributed, reference, citus local) and its distribution column; NULLs without Citus.';

-- prefixed_ids/tables/prefix_counter.sql
CREATE TABLE IF NOT EXISTS idsql.prefix_counter (
    prefix text PRIMARY KEY
        CONSTRAINT prefix_counter_prefix_check CHECK (prefix ~ '^[A-Z_][A-Z0-9_]{0,19}$'),
    mode text NOT NULL DEFAULT 'gapless'
        CONSTRAINT prefix_counter_mode_check CHECK (mode IN ('gapless', 'fast')),
    digits integer NOT NULL DEFAULT 4
        CONSTRAINT prefix_counter_digits_check CHECK (digits BETWEEN 1 AND 9),
    min_letters integer NOT NULL DEFAULT 3
        CONSTRAINT prefix_counter_min_letters_check CHECK (min_letters BETWEEN 1 AND 8),
    last_value bigint NOT NULL DEFAULT 0
        CONSTRAINT prefix_counter_last_value_check CHECK (last_value >= 0),
    fast_seq regclass,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT prefix_counter_fast_seq_check CHECK (mode = 'gapless' OR fast_seq IS NOT NULL)
);

COMMENT ON TABLE idsql.prefix_counter IS
'One row per prefix: its format settings and the counter behind generate_id().';
COMMENT ON COLUMN idsql.prefix_counter.prefix IS
'The prefix: 1-20 characters A-Z, 0-9 or _, starting with a letter or _.';
COMMENT ON COLUMN idsql.prefix_counter.mode IS
'gapless: the counter row is updated in the caller''s transaction; fast: a native sequence, holes on rollback.';
COMMENT ON COLUMN idsql.prefix_counter.digits IS 'Width of the number part (4 gives 0001-9999).';
COMMENT ON COLUMN idsql.prefix_counter.min_letters IS 'Letters in the first block (3 gives AAA).';
COMMENT ON COLUMN idsql.prefix_counter.last_value IS
'Ordinal of the last ID issued in gapless mode (0 = none); in fast mode the sequence holds it.';
COMMENT ON COLUMN idsql.prefix_counter.fast_seq IS
'The sequence behind fast mode; kept, capped, while the prefix is gapless so a late caller cannot reuse it.';
COMMENT ON COLUMN idsql.prefix_counter.created_at IS 'When the prefix was first used or configured.';
COMMENT ON COLUMN idsql.prefix_counter.updated_at IS
'Last change: each gapless ID, or the last configure/reset/sync in fast mode.';

-- prefixed_ids/functions/_check_prefix.sql
CREATE OR REPLACE FUNCTION idsql._check_prefix(p_prefix text)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise ID001 unless p_prefix is 1-20 characters A-Z, 0-9 or _, starting with
 * a letter or _. The DETAIL names the first thing that is wrong.
 */
DECLARE
    v_detail text;
BEGIN
    IF p_prefix ~ '^[A-Z_][A-Z0-9_]{0,19}$' THEN
        RETURN;
    END IF;
    v_detail := CASE
        WHEN p_prefix IS NULL THEN 'The prefix is NULL.'
        WHEN p_prefix = '' THEN 'The prefix is empty.'
        WHEN length(p_prefix) > 20 THEN format('The prefix has %s characters; the limit is 20.', length(p_prefix))
        WHEN p_prefix ~ '^[0-9]' THEN 'The prefix starts with a digit.'
        WHEN p_prefix ~ '[a-z]' THEN 'The prefix contains lower-case letters.'
        ELSE format('The prefix contains "%s", which is not A-Z, 0-9 or _.',
                    substring(p_prefix FROM '[^A-Z0-9_]'))
    END;
    RAISE EXCEPTION '%', CASE WHEN p_prefix IS NULL THEN 'prefix is NULL'
                          ELSE format('invalid prefix "%s"', left(p_prefix, 40)) END
        USING ERRCODE = 'ID001',  -- invalid_prefix
              DETAIL = v_detail,
              HINT = 'Use 1-20 characters A-Z, 0-9 or _, starting with a letter or _, for example CUS.';
END
$$;

COMMENT ON FUNCTION idsql._check_prefix(text) IS
'Internal: raise ID001 unless the text is a valid prefix.';

-- prefixed_ids/functions/_check_format.sql
CREATE OR REPLACE FUNCTION idsql._check_format(p_digits integer, p_min_letters integer)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise 22023 unless digits is 1-9 and min_letters is 1-8: the ranges the
 * counter table accepts, and small enough that every ordinal fits a bigint.
 */
BEGIN
    IF p_digits IS NULL OR p_digits NOT BETWEEN 1 AND 9 THEN
        RAISE EXCEPTION 'invalid digits "%"', coalesce(p_digits::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The number part of an ID has 1 to 9 digits.',
                  HINT = 'Use digits => 4 for the usual 0001-9999.';
    END IF;
    IF p_min_letters IS NULL OR p_min_letters NOT BETWEEN 1 AND 8 THEN
        RAISE EXCEPTION 'invalid min_letters "%"', coalesce(p_min_letters::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The first letter block has 1 to 8 letters.',
                  HINT = 'Use min_letters => 3 for the usual AAA.';
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._check_format(integer, integer) IS
'Internal: raise 22023 unless digits is 1-9 and min_letters is 1-8.';

-- prefixed_ids/functions/_letters.sql
CREATE OR REPLACE FUNCTION idsql._letters(p_block bigint, p_min_letters integer)
    RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    STRICT
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the letter block with index p_block (0-based): with 3 minimum letters,
 * 0 -> AAA, 17575 -> ZZZ, 17576 -> AAAA. Blocks of one length are used up
 * before the next length starts, so the mapping is a bijection. The default
 * format's first width (3 letters, blocks 0-17575) skips the loops: it is
 * the path nearly every generate_id takes.
 */
DECLARE
    v_block bigint := p_block;
    v_len integer := p_min_letters;
    v_span bigint := (26::bigint ^ p_min_letters)::bigint;
    v_out text := '';
BEGIN
    IF p_min_letters = 3 AND p_block < 17576 THEN
        RETURN chr(65 + (p_block / 676)::integer)
            || chr(65 + (p_block / 26 % 26)::integer)
            || chr(65 + (p_block % 26)::integer);
    END IF;
    WHILE v_block >= v_span LOOP
        v_block := v_block - v_span;
        v_len := v_len + 1;
        v_span := v_span * 26;
    END LOOP;
    FOR i IN 1..v_len LOOP
        v_out := chr(65 + (v_block % 26)::integer) || v_out;
        v_block := v_block / 26;
    END LOOP;
    RETURN v_out;
END
$$;

COMMENT ON FUNCTION idsql._letters(bigint, integer) IS
'Internal: the letter block with a 0-based index (AAA, AAB, ... ZZZ, AAAA, ...).';

-- prefixed_ids/functions/_format_ordinal.sql
-- Return the ID with ordinal p_ordinal (>= 1), without checking the arguments: the hot path of
-- generate_id, whose inputs come from the counter table.
-- block = (n-1) / (10^digits - 1), number = (n-1) % (10^digits - 1) + 1.
--
-- One SQL expression with a standard body, so the planner inlines it into the statement that
-- calls it: a PL/pgSQL function with a SET clause cost eight times the formatting itself. The
-- body is bound to its objects when it is created, so no search_path applies to it; it is not
-- STRICT because the planner inlines no STRICT function around a CASE (NULL in gives NULL out all
-- the same). The arguments must be plain columns or variables, not nextval(): the planner inlines
-- no function whose repeated argument is volatile (generate_id draws nextval in a subquery).
-- Three minimum letters and the first 17,576 blocks (AAA to ZZZ) are computed here; longer
-- letter blocks, from _letters.
CREATE OR REPLACE FUNCTION idsql._format_ordinal(
    p_prefix text,
    p_ordinal bigint,
    p_digits integer,
    p_min_letters integer
)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE
    PARALLEL SAFE
RETURN p_prefix || '-' || CASE
    WHEN p_min_letters = 3 AND p_ordinal BETWEEN 1 AND 17576 * ((10::bigint ^ p_digits)::bigint - 1) THEN
        chr(65 + ((p_ordinal - 1) / ((10::bigint ^ p_digits)::bigint - 1) / 676)::integer)
        || chr(65 + ((p_ordinal - 1) / ((10::bigint ^ p_digits)::bigint - 1) / 26 % 26)::integer)
        || chr(65 + ((p_ordinal - 1) / ((10::bigint ^ p_digits)::bigint - 1) % 26)::integer)
    ELSE idsql._letters((p_ordinal - 1) / ((10::bigint ^ p_digits)::bigint - 1), p_min_letters)
END || lpad(((p_ordinal - 1) % ((10::bigint ^ p_digits)::bigint - 1) + 1)::text, p_digits, '0');

COMMENT ON FUNCTION idsql._format_ordinal(text, bigint, integer, integer) IS
'Internal: the ID for an ordinal, arguments unchecked; inlined by the planner.';

-- prefixed_ids/functions/_parse_id.sql
CREATE OR REPLACE FUNCTION idsql._parse_id(
    p_id text,
    p_digits integer,
    p_min_letters integer,
    OUT prefix text,
    OUT letters text,
    OUT number integer,
    OUT ordinal bigint,
    OUT problem text
)
    RETURNS record
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Split an ID into its parts and its ordinal, or say what is wrong with it in
 * "problem" (a full sentence for an error DETAIL). Never raises, so that
 * is_valid_id can use it in CHECK constraints; parse_id raises on a problem.
 * Only the canonical form is accepted: exactly p_digits digits, number >= 1,
 * at least p_min_letters letters, and an ordinal that fits a bigint.
 */
DECLARE
    v_rest text;
    v_parts text[];
    v_blocks numeric := 0::numeric;
    v_ordinal numeric;
BEGIN
    IF p_digits IS NULL OR p_digits NOT BETWEEN 1 AND 9
       OR p_min_letters IS NULL OR p_min_letters NOT BETWEEN 1 AND 8 THEN
        problem := 'The format is invalid: digits must be 1-9 and min_letters 1-8.';
        RETURN;
    END IF;
    IF p_id IS NULL THEN
        problem := 'The ID is NULL.';
        RETURN;
    END IF;
    IF strpos(p_id, '-') = 0 THEN
        problem := 'There is no "-" between the prefix and the rest.';
        RETURN;
    END IF;
    prefix := split_part(p_id, '-', 1);
    v_rest := substr(p_id, length(prefix) + 2);
    IF prefix !~ '^[A-Z_][A-Z0-9_]{0,19}$' THEN
        problem := format('The prefix part "%s" is not 1-20 characters A-Z, 0-9 or _ starting with a letter or _.',
                          left(prefix, 40));
        RETURN;
    END IF;
    v_parts := regexp_match(v_rest, '^([A-Z]+)([0-9]+)$');
    IF v_parts IS NULL THEN
        problem := format('The part after the prefix, "%s", is not letters A-Z followed by digits 0-9.',
                          left(v_rest, 40));
        RETURN;
    END IF;
    letters := v_parts[1];
    IF length(v_parts[2]) <> p_digits THEN
        problem := format('The number part "%s" has %s digits; this format has %s.',
                          left(v_parts[2], 40), length(v_parts[2]), p_digits);
        RETURN;
    END IF;
    number := v_parts[2]::integer;
    IF number = 0 THEN
        problem := format('The number part "%s" is zero; numbers start at 1.', v_parts[2]);
        RETURN;
    END IF;
    IF length(letters) < p_min_letters THEN
        problem := format('The letter part "%s" has %s letters; this format starts at %s.',
                          letters, length(letters), p_min_letters);
        RETURN;
    END IF;
    IF length(letters) <= 14 THEN
        -- Blocks of every shorter length come first, then this one's index in base 26.
        FOR i IN p_min_letters..length(letters) - 1 LOOP
            v_blocks := v_blocks + 26::numeric ^ i;
        END LOOP;
        FOR i IN 1..length(letters) LOOP
            v_blocks := v_blocks + (ascii(substr(letters, i, 1)) - 65) * 26::numeric ^ (length(letters) - i);
        END LOOP;
        v_ordinal := v_blocks * (10::numeric ^ p_digits - 1) + number;
    END IF;
    IF v_ordinal IS NULL OR v_ordinal > 9223372036854775807 THEN
        problem := format('The ID "%s" is past the last ordinal a bigint can hold.', left(p_id, 60));
        letters := NULL;
        number := NULL;
        RETURN;
    END IF;
    ordinal := v_ordinal::bigint;
END
$$;

COMMENT ON FUNCTION idsql._parse_id(text, integer, integer) IS
'Internal: the parts and ordinal of an ID, or a sentence saying what is wrong with it; never raises.';

-- prefixed_ids/functions/_raise_invalid_id.sql
CREATE OR REPLACE FUNCTION idsql._raise_invalid_id(
    p_id text,
    p_problem text,
    p_digits integer,
    p_min_letters integer
)
    RETURNS void
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise ID002 for an ID that _parse_id rejected, with its reason as DETAIL and
 * an example of the expected format as HINT.
 */
DECLARE
    v_example text := 'CUS-AAA0001';
BEGIN
    IF p_digits BETWEEN 1 AND 9 AND p_min_letters BETWEEN 1 AND 8 THEN
        v_example := idsql._format_ordinal('CUS', 1, p_digits, p_min_letters);
    END IF;
    RAISE EXCEPTION '%', CASE WHEN p_id IS NULL THEN 'ID is NULL'
                          ELSE format('invalid ID "%s"', left(p_id, 60)) END
        USING ERRCODE = 'ID002',  -- invalid_id
              DETAIL = p_problem,
              HINT = format('IDs look like %s: a prefix, "-", letters A-Z, then the number.', v_example);
END
$$;

COMMENT ON FUNCTION idsql._raise_invalid_id(text, text, integer, integer) IS
'Internal: raise ID002 with the reason _parse_id gave.';

-- prefixed_ids/functions/_last_ordinal.sql
CREATE OR REPLACE FUNCTION idsql._last_ordinal(p_counter idsql.prefix_counter)
    RETURNS bigint
    LANGUAGE plpgsql
    STABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Ordinal of the last ID issued for a counter row, 0 when none: the row's
 * last_value in gapless mode, the sequence's last value in fast mode (global,
 * not this session's currval).
 */
BEGIN
    IF p_counter.mode = 'fast' THEN
        RETURN coalesce(pg_sequence_last_value(p_counter.fast_seq), 0);
    END IF;
    RETURN p_counter.last_value;
END
$$;

COMMENT ON FUNCTION idsql._last_ordinal(idsql.prefix_counter) IS
'Internal: ordinal of the last ID issued for a counter row, 0 when none.';

-- prefixed_ids/functions/_lock_counter.sql
CREATE OR REPLACE FUNCTION idsql._lock_counter(p_prefix text)
    RETURNS idsql.prefix_counter
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the counter row of a (valid) prefix, created if missing, locked for
 * the rest of the transaction: FOR UPDATE stops gapless callers, and in fast
 * mode a no-op ALTER SEQUENCE takes SHARE ROW EXCLUSIVE on the sequence,
 * which waits for and then blocks nextval() (ROW EXCLUSIVE) until commit.
 * Used by the administrative functions (configure, reset, sync) only.
 */
DECLARE
    v_counter idsql.prefix_counter;
BEGIN
    INSERT INTO idsql.prefix_counter (prefix) VALUES (p_prefix)
    ON CONFLICT (prefix) DO NOTHING;
    SELECT c.* INTO STRICT v_counter
      FROM idsql.prefix_counter AS c
     WHERE c.prefix = p_prefix
       FOR UPDATE;
    IF v_counter.fast_seq IS NOT NULL THEN
        EXECUTE format('ALTER SEQUENCE %s NO CYCLE', v_counter.fast_seq);
    END IF;
    RETURN v_counter;
END
$$;

COMMENT ON FUNCTION idsql._lock_counter(text) IS
'Internal: the counter row of a prefix, created if missing and locked (with its sequence) until commit.';

-- prefixed_ids/functions/_set_last_ordinal.sql
CREATE OR REPLACE FUNCTION idsql._set_last_ordinal(p_counter idsql.prefix_counter, p_ordinal bigint)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Make p_ordinal the last issued ordinal of a counter locked by _lock_counter,
 * so the next ID is p_ordinal + 1, in either mode.
 */
BEGIN
    IF p_counter.mode = 'fast' THEN
        PERFORM setval(p_counter.fast_seq, p_ordinal, true);
    END IF;
    UPDATE idsql.prefix_counter AS c
       SET last_value = p_ordinal,
           updated_at = now()
     WHERE c.prefix = p_counter.prefix;
END
$$;

COMMENT ON FUNCTION idsql._set_last_ordinal(idsql.prefix_counter, bigint) IS
'Internal: set the last issued ordinal of a locked counter, in either mode.';

-- prefixed_ids/functions/_share_sequence.sql
CREATE OR REPLACE FUNCTION idsql._share_sequence(p_seq regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Give a sequence that idsql just created at run time (a fast-mode prefix, a
 * registered table) the privileges grant_access() gave on the sequences that
 * existed then: roles with CREATE on schema idsql (administrators) get ALL,
 * roles with only USAGE get USAGE and SELECT (nextval, never setval). The
 * owner of idsql.prefix_counter gets ALL too: generate_id() runs with its
 * rights. The caller created the sequence, so it owns it and may grant.
 */
DECLARE
    v_owner oid;
    v_grantee oid;
    v_admin boolean;
BEGIN
    SELECT c.relowner INTO v_owner FROM pg_class AS c WHERE c.oid = 'idsql.prefix_counter'::regclass;
    IF v_owner <> (SELECT r.oid FROM pg_roles AS r WHERE r.rolname = current_user) THEN
        EXECUTE format('GRANT ALL ON SEQUENCE %s TO %I', p_seq, pg_get_userbyid(v_owner));
    END IF;
    FOR v_grantee, v_admin IN
        SELECT a.grantee, bool_or(a.privilege_type = 'CREATE')
          FROM pg_namespace AS n, aclexplode(n.nspacl) AS a
         WHERE n.nspname = 'idsql' AND a.grantee <> n.nspowner
         GROUP BY a.grantee
    LOOP
        IF v_grantee = 0 THEN  -- PUBLIC, in an ACL
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO PUBLIC', p_seq);
        ELSIF v_admin THEN
            EXECUTE format('GRANT ALL ON SEQUENCE %s TO %I', p_seq, pg_get_userbyid(v_grantee));
        ELSE
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', p_seq, pg_get_userbyid(v_grantee));
        END IF;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._share_sequence(regclass) IS
'Internal: grant on a sequence created at run time what grant_access() granted on the others.';

-- prefixed_ids/functions/format_id.sql
CREATE OR REPLACE FUNCTION idsql.format_id(
    prefix text,
    ordinal bigint,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the ID with the given ordinal: format_id('CUS', 1) = 'CUS-AAA0001',
 * format_id('CUS', 10000) = 'CUS-AAB0001'. Pure; the inverse of parse_id.
 */
BEGIN
    PERFORM idsql._check_prefix(format_id.prefix);
    PERFORM idsql._check_format(format_id.digits, format_id.min_letters);
    IF format_id.ordinal IS NULL THEN
        RAISE EXCEPTION 'ordinal is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass an ordinal of 1 or more.';
    END IF;
    IF format_id.ordinal < 1 THEN
        RAISE EXCEPTION 'ordinal % is out of range', format_id.ordinal
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'Ordinals start at 1, which is the first ID, for example CUS-AAA0001.',
                  HINT = 'Pass an ordinal of 1 or more.';
    END IF;
    RETURN idsql._format_ordinal(format_id.prefix, format_id.ordinal, format_id.digits, format_id.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.format_id(text, bigint, integer, integer) IS
'Return the ID with the given ordinal, e.g. format_id(''CUS'', 10000) = ''CUS-AAB0001''; pure.';

-- prefixed_ids/functions/parse_id.sql
CREATE OR REPLACE FUNCTION idsql.parse_id(
    id text,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS TABLE (prefix text, letters text, number integer, ordinal bigint)
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the parts of an ID and its ordinal: parse_id('CUS-AAB0001') =
 * (CUS, AAB, 1, 10000). Invalid text raises ID002 naming what is wrong.
 */
DECLARE
    v_parsed record;
BEGIN
    PERFORM idsql._check_format(parse_id.digits, parse_id.min_letters);
    v_parsed := idsql._parse_id(parse_id.id, parse_id.digits, parse_id.min_letters);
    IF v_parsed.problem IS NOT NULL THEN
        PERFORM idsql._raise_invalid_id(parse_id.id, v_parsed.problem, parse_id.digits, parse_id.min_letters);
    END IF;
    prefix := v_parsed.prefix;
    letters := v_parsed.letters;
    number := v_parsed.number;
    ordinal := v_parsed.ordinal;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION idsql.parse_id(text, integer, integer) IS
'Return prefix, letters, number and ordinal of an ID; invalid text raises ID002.';

-- prefixed_ids/functions/is_valid_id.sql
CREATE OR REPLACE FUNCTION idsql.is_valid_id(
    id text,
    prefix text DEFAULT NULL,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS boolean
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * True when id is a canonical ID (of the given prefix, when one is given).
 * Never raises and never returns NULL, so it fits CHECK constraints and domains.
 */
DECLARE
    v_parsed record;
BEGIN
    v_parsed := idsql._parse_id(is_valid_id.id, is_valid_id.digits, is_valid_id.min_letters);
    RETURN v_parsed.problem IS NULL
        AND (is_valid_id.prefix IS NULL OR v_parsed.prefix = is_valid_id.prefix);
END
$$;

COMMENT ON FUNCTION idsql.is_valid_id(text, text, integer, integer) IS
'True when the text is a canonical ID (of the prefix, if given); never raises, usable in CHECK constraints.';

-- prefixed_ids/functions/increment_id.sql
CREATE OR REPLACE FUNCTION idsql.increment_id(
    id text,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the ID after id: CUS-AAA9999 -> CUS-AAB0001, CUS-ZZZ9999 -> CUS-AAAA0001.
 */
DECLARE
    v_parsed record;
BEGIN
    PERFORM idsql._check_format(increment_id.digits, increment_id.min_letters);
    v_parsed := idsql._parse_id(increment_id.id, increment_id.digits, increment_id.min_letters);
    IF v_parsed.problem IS NOT NULL THEN
        PERFORM idsql._raise_invalid_id(increment_id.id, v_parsed.problem, increment_id.digits,
                                        increment_id.min_letters);
    END IF;
    IF v_parsed.ordinal = 9223372036854775807 THEN
        RAISE EXCEPTION 'ID "%" is the last one', increment_id.id
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = 'Its ordinal is the largest a bigint can hold.',
                  HINT = 'Use a new prefix.';
    END IF;
    RETURN idsql._format_ordinal(v_parsed.prefix, v_parsed.ordinal + 1, increment_id.digits,
                                 increment_id.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.increment_id(text, integer, integer) IS
'Return the ID after the given one, e.g. CUS-ZZZ9999 -> CUS-AAAA0001; pure.';

-- prefixed_ids/functions/normalize_id.sql
CREATE OR REPLACE FUNCTION idsql.normalize_id(
    id text,
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS text
    LANGUAGE plpgsql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Correct the format of an ID typed or stored carelessly: trim white space,
 * upper-case, zero-pad or unpad the number (' cus-aab12' -> 'CUS-AAB0012').
 * What cannot be recovered without guessing (no "-", too few letters, a number
 * of 0 or too large) raises ID002 naming the problem: never a silent reset.
 */
DECLARE
    v_text text;
    v_parts text[];
    v_number numeric;
    v_parsed record;
BEGIN
    PERFORM idsql._check_format(normalize_id.digits, normalize_id.min_letters);
    v_text := upper(regexp_replace(normalize_id.id, '^\s+|\s+$', '', 'g'));
    v_parts := regexp_match(v_text, '^([A-Z_][A-Z0-9_]{0,19})-([A-Z]+)([0-9]+)$');
    IF v_parts IS NOT NULL THEN
        v_number := v_parts[3]::numeric;
        IF v_number BETWEEN 1 AND 10::numeric ^ normalize_id.digits - 1 THEN
            v_text := v_parts[1] || '-' || v_parts[2] || lpad(v_number::text, normalize_id.digits, '0');
        ELSE
            PERFORM idsql._raise_invalid_id(
                normalize_id.id,
                format('The number %s is outside 1-%s, the range of %s digits.',
                       left(v_parts[3], 40), 10::bigint ^ normalize_id.digits - 1, normalize_id.digits),
                normalize_id.digits, normalize_id.min_letters);
        END IF;
    END IF;
    v_parsed := idsql._parse_id(v_text, normalize_id.digits, normalize_id.min_letters);
    IF v_parsed.problem IS NOT NULL THEN
        PERFORM idsql._raise_invalid_id(normalize_id.id, v_parsed.problem, normalize_id.digits,
                                        normalize_id.min_letters);
    END IF;
    RETURN v_text;
END
$$;

COMMENT ON FUNCTION idsql.normalize_id(text, integer, integer) IS
'Correct the format of an ID (trim, upper-case, zero-pad): '' cus-aab12'' -> ''CUS-AAB0012''; unrecoverable text raises ID002.';

-- prefixed_ids/functions/generate_id.sql
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

-- prefixed_ids/functions/bulk_generate_ids.sql
CREATE OR REPLACE FUNCTION idsql.bulk_generate_ids(prefix text, n integer)
    RETURNS SETOF text
    LANGUAGE plpgsql
    VOLATILE
    -- SECURITY DEFINER: a role granted only usage (grant_access) may draw IDs but must not
    -- write idsql.prefix_counter itself, or it could move a counter back; this function
    -- writes only the row of its (checked) prefix, with its owner's rights.
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return n IDs of a prefix in ascending order: bulk_generate_ids('INV', 3) =
 * INV-AAA0001, INV-AAA0002, INV-AAA0003.
 *
 * Gapless mode: one counter update reserves all n, so they are consecutive;
 * the letters are computed once per block of 9999, the numbers by a plain
 * generate_series. Fast mode: n nextval() calls in one statement: unique and
 * ascending, consecutive unless another session draws from the same prefix
 * at the same moment (a sequence cannot reserve a range atomically).
 */
DECLARE
    v_seq regclass;
    v_digits integer;
    v_min_letters integer;
    v_last bigint;
    v_first bigint;
    v_cap bigint;
    v_block bigint;
    v_head text;
BEGIN
    IF bulk_generate_ids.n IS NULL OR bulk_generate_ids.n NOT BETWEEN 1 AND 10000000 THEN
        RAISE EXCEPTION 'invalid count "%"', coalesce(bulk_generate_ids.n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'bulk_generate_ids makes 1 to 10,000,000 IDs per call.',
                  HINT = 'Call it several times for more.';
    END IF;
    LOOP
        SELECT c.fast_seq, c.digits, c.min_letters
          INTO v_seq, v_digits, v_min_letters
          FROM idsql.prefix_counter AS c
         WHERE c.prefix = bulk_generate_ids.prefix AND c.mode = 'fast';
        IF FOUND THEN
            RETURN QUERY
                SELECT idsql._format_ordinal(bulk_generate_ids.prefix, s.ordinal, v_digits, v_min_letters)
                  FROM (SELECT nextval(v_seq) AS ordinal FROM generate_series(1, bulk_generate_ids.n)) AS s;
            RETURN;
        END IF;
        UPDATE idsql.prefix_counter AS c
           SET last_value = c.last_value + bulk_generate_ids.n,
               updated_at = now()
         WHERE c.prefix = bulk_generate_ids.prefix AND c.mode = 'gapless'
        RETURNING c.last_value, c.digits, c.min_letters
             INTO v_last, v_digits, v_min_letters;
        IF NOT FOUND THEN
            PERFORM idsql._check_prefix(bulk_generate_ids.prefix);
            INSERT INTO idsql.prefix_counter AS c (prefix, last_value)
            VALUES (bulk_generate_ids.prefix, bulk_generate_ids.n)
            ON CONFLICT ON CONSTRAINT prefix_counter_pkey DO UPDATE
                SET last_value = c.last_value + bulk_generate_ids.n,
                    updated_at = now()
                WHERE c.mode = 'gapless'
            RETURNING c.last_value, c.digits, c.min_letters
                 INTO v_last, v_digits, v_min_letters;
        END IF;
        EXIT WHEN v_last IS NOT NULL;
    END LOOP;

    v_first := v_last - bulk_generate_ids.n + 1;
    v_cap := (10::bigint ^ v_digits)::bigint - 1;
    v_block := (v_first - 1) / v_cap;
    WHILE v_block <= (v_last - 1) / v_cap LOOP
        v_head := bulk_generate_ids.prefix || '-' || idsql._letters(v_block, v_min_letters);
        RETURN QUERY
            SELECT v_head || lpad(g::text, v_digits, '0')
              FROM generate_series(greatest(v_first - v_block * v_cap, 1),
                                   least(v_last - v_block * v_cap, v_cap)) AS g;
        v_block := v_block + 1;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.bulk_generate_ids(text, integer) IS
'Return n consecutive IDs of a prefix (1 to 10,000,000), ascending, from one counter update.';

-- prefixed_ids/functions/current_id.sql
CREATE OR REPLACE FUNCTION idsql.current_id(prefix text)
    RETURNS text
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the last ID issued for a prefix, or NULL when none has been (or the
 * prefix is unknown). Never consumes an ID. In gapless mode it is the last
 * committed ID, or this transaction's own.
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_ordinal bigint;
BEGIN
    PERFORM idsql._check_prefix(current_id.prefix);
    SELECT c.* INTO v_counter FROM idsql.prefix_counter AS c WHERE c.prefix = current_id.prefix;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    v_ordinal := idsql._last_ordinal(v_counter);
    IF v_ordinal = 0 THEN
        RETURN NULL;
    END IF;
    RETURN idsql._format_ordinal(v_counter.prefix, v_ordinal, v_counter.digits, v_counter.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.current_id(text) IS
'Return the last ID issued for a prefix, NULL if none; never consumes an ID.';

-- prefixed_ids/functions/reset_sequence.sql
CREATE OR REPLACE FUNCTION idsql.reset_sequence(prefix text, last_id text)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Make last_id the last issued ID of a prefix, so the next generate_id returns
 * increment_id(last_id); NULL restarts the prefix at its first ID. It may move
 * the counter backwards: that is what a reset is for. Locks the counter until
 * commit (see _lock_counter).
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_parsed record;
    v_ordinal bigint := 0::bigint;
BEGIN
    PERFORM idsql._check_prefix(reset_sequence.prefix);
    v_counter := idsql._lock_counter(reset_sequence.prefix);
    IF reset_sequence.last_id IS NOT NULL THEN
        v_parsed := idsql._parse_id(reset_sequence.last_id, v_counter.digits, v_counter.min_letters);
        IF v_parsed.problem IS NOT NULL THEN
            PERFORM idsql._raise_invalid_id(reset_sequence.last_id, v_parsed.problem, v_counter.digits,
                                            v_counter.min_letters);
        END IF;
        IF v_parsed.prefix <> reset_sequence.prefix THEN
            RAISE EXCEPTION 'ID "%" does not belong to prefix "%"', reset_sequence.last_id, reset_sequence.prefix
                USING ERRCODE = 'ID003',  -- prefix_mismatch
                      DETAIL = format('The ID has prefix "%s".', v_parsed.prefix),
                      HINT = format('Pass an ID that starts with %s-, or NULL to restart the prefix.',
                                    reset_sequence.prefix);
        END IF;
        v_ordinal := v_parsed.ordinal;
    END IF;
    PERFORM idsql._set_last_ordinal(v_counter, v_ordinal);
END
$$;

COMMENT ON FUNCTION idsql.reset_sequence(text, text) IS
'Make the next generate_id return increment_id(last_id); NULL restarts the prefix at its first ID.';

-- prefixed_ids/functions/configure_prefix.sql
CREATE OR REPLACE FUNCTION idsql.configure_prefix(
    prefix text,
    mode text DEFAULT 'gapless',
    digits integer DEFAULT 4,
    min_letters integer DEFAULT 3
)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Create a prefix or change its settings. The format (digits, min_letters)
 * is fixed once an ID has been issued, since issued IDs would read
 * differently; the mode can change at any time and the next ID continues the
 * sequence. Gapless -> fast creates (or re-opens) the prefix's sequence at the
 * counter; fast -> gapless copies the sequence into the counter and caps the
 * sequence there, so a caller that read "fast" just before the switch gets a
 * 2200H error rather than an ID the counter will issue again. Locks the
 * counter and its sequence until commit.
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_issued bigint;
    v_seq regclass;
    v_seq_name text;
BEGIN
    PERFORM idsql._check_prefix(configure_prefix.prefix);
    IF configure_prefix.mode IS NULL OR configure_prefix.mode NOT IN ('gapless', 'fast') THEN
        RAISE EXCEPTION '%', CASE WHEN configure_prefix.mode IS NULL THEN 'mode is NULL'
                          ELSE format('invalid mode "%s"', left(configure_prefix.mode, 40)) END
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The mode is gapless or fast.',
                  HINT = 'Use gapless (no holes; callers of one prefix queue) or fast (never waits; a rollback leaves a hole).';
    END IF;
    PERFORM idsql._check_format(configure_prefix.digits, configure_prefix.min_letters);

    v_counter := idsql._lock_counter(configure_prefix.prefix);
    v_issued := idsql._last_ordinal(v_counter);
    IF v_issued > 0 AND (v_counter.digits, v_counter.min_letters)
                        IS DISTINCT FROM (configure_prefix.digits, configure_prefix.min_letters) THEN
        RAISE EXCEPTION 'cannot change the format of prefix "%"', configure_prefix.prefix
            USING ERRCODE = 'ID004',  -- format_locked
                  DETAIL = format('The prefix has issued IDs up to %s with %s digits and at least %s letters.',
                                  idsql._format_ordinal(v_counter.prefix, v_issued, v_counter.digits,
                                                        v_counter.min_letters),
                                  v_counter.digits, v_counter.min_letters),
                  HINT = 'Use a new prefix, or reset_sequence(prefix, NULL) first if none of its IDs is in use.';
    END IF;

    v_seq := v_counter.fast_seq;
    IF configure_prefix.mode = 'fast' AND v_counter.mode = 'gapless' THEN
        IF v_seq IS NULL THEN
            -- IF NOT EXISTS: a counter row deleted by hand leaves its sequence behind.
            v_seq_name := format('prefix_%s_seq', lower(configure_prefix.prefix));
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS idsql.%I AS bigint NO CYCLE', v_seq_name);
            v_seq := to_regclass(format('idsql.%I', v_seq_name));
            EXECUTE format('COMMENT ON SEQUENCE %s IS %L', v_seq,
                           format('Counter of prefix %s in fast mode (see idsql.prefix_counter).',
                                  configure_prefix.prefix));
            PERFORM idsql._share_sequence(v_seq);
        END IF;
        -- MINVALUE 0 so that setval(seq, 0) can mean "nothing issued yet"; NO MAXVALUE
        -- lifts the cap a switch to gapless put on it.
        EXECUTE format('ALTER SEQUENCE %s MINVALUE 0 NO MAXVALUE', v_seq);
        PERFORM setval(v_seq, v_issued, true);
    ELSIF configure_prefix.mode = 'gapless' AND v_counter.mode = 'fast' THEN
        EXECUTE format('ALTER SEQUENCE %s MAXVALUE %s', v_seq, greatest(v_issued, 1));
        PERFORM setval(v_seq, greatest(v_issued, 1), true);
    END IF;

    UPDATE idsql.prefix_counter AS c
       SET mode = configure_prefix.mode,
           digits = configure_prefix.digits,
           min_letters = configure_prefix.min_letters,
           last_value = v_issued,
           fast_seq = v_seq,
           updated_at = now()
     WHERE c.prefix = configure_prefix.prefix;
END
$$;

COMMENT ON FUNCTION idsql.configure_prefix(text, text, integer, integer) IS
'Create a prefix or change its mode (gapless or fast) and format; the format is fixed once IDs are issued.';

-- prefixed_ids/functions/sync_prefix.sql
CREATE OR REPLACE FUNCTION idsql.sync_prefix(prefix text, source regclass, id_column name)
    RETURNS text
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * After an import or a restore: move the counter of a prefix forward (never
 * back) to the highest ordinal found in source.id_column among that prefix's
 * IDs; return the current ID afterwards. Values that are not valid IDs of the
 * prefix are skipped and counted in a NOTICE. The counter is locked before
 * the scan (its format decides how IDs parse), so generate_id calls for this
 * prefix wait for the scan and the caller's commit.
 */
DECLARE
    v_type_category "char";
    v_counter idsql.prefix_counter;
    v_max bigint;
    v_skipped bigint;
    v_ordinal bigint;
BEGIN
    PERFORM idsql._check_prefix(sync_prefix.prefix);
    IF sync_prefix.source IS NULL OR sync_prefix.id_column IS NULL THEN
        RAISE EXCEPTION 'source and id_column must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table and the column that hold the IDs, e.g. sync_prefix(''CUS'', ''customer'', ''id'').';
    END IF;
    SELECT t.typcategory INTO v_type_category
      FROM pg_attribute AS a
      JOIN pg_type AS t ON t.oid = a.atttypid
     WHERE a.attrelid = sync_prefix.source AND a.attname = sync_prefix.id_column
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', sync_prefix.id_column, sync_prefix.source
            USING ERRCODE = 'undefined_column',
                  HINT = 'Pass the name of the column that holds the IDs.';
    END IF;
    IF v_type_category <> 'S' THEN
        RAISE EXCEPTION 'column "%" of relation "%" is not text', sync_prefix.id_column, sync_prefix.source
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = 'Prefixed IDs are stored in text, varchar or char columns.',
                  HINT = 'Pass the column that holds IDs such as CUS-AAA0001.';
    END IF;

    v_counter := idsql._lock_counter(sync_prefix.prefix);
    EXECUTE format(
        'SELECT max(p.ordinal), count(*) FILTER (WHERE p.ordinal IS NULL OR p.prefix <> $1)'
        ' FROM (SELECT %I::text AS v FROM %s) AS s, LATERAL idsql._parse_id(s.v, $3, $4) AS p'
        ' WHERE starts_with(s.v, $2)',
        sync_prefix.id_column, sync_prefix.source)
    INTO v_max, v_skipped
    USING sync_prefix.prefix, sync_prefix.prefix || '-', v_counter.digits, v_counter.min_letters;
    IF v_skipped > 0 THEN
        RAISE NOTICE 'skipped % value(s) in %.% that are not valid IDs of prefix %',
            v_skipped, sync_prefix.source, quote_ident(sync_prefix.id_column), sync_prefix.prefix;
    END IF;

    v_ordinal := idsql._last_ordinal(v_counter);
    IF v_max > v_ordinal THEN
        PERFORM idsql._set_last_ordinal(v_counter, v_max);
        v_ordinal := v_max;
    END IF;
    IF v_ordinal = 0 THEN
        RETURN NULL;
    END IF;
    RETURN idsql._format_ordinal(v_counter.prefix, v_ordinal, v_counter.digits, v_counter.min_letters);
END
$$;

COMMENT ON FUNCTION idsql.sync_prefix(text, regclass, name) IS
'Move the counter of a prefix forward (never back) to the highest ID found in a table column; returns the current ID.';

-- prefixed_ids/functions/prefix_stats.sql
CREATE OR REPLACE FUNCTION idsql.prefix_stats()
    RETURNS TABLE (
        prefix text,
        mode text,
        last_id text,
        issued bigint,
        capacity_left_in_width bigint,
        created_at timestamptz,
        updated_at timestamptz
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * One row per prefix: its mode, last issued ID, how many IDs it has issued
 * (the last ordinal), and how many more fit before IDs grow a letter
 * (capacity_left_in_width: 0 at CUS-ZZZ9999). Reads without locking.
 */
DECLARE
    v_counter idsql.prefix_counter;
    v_cap numeric;
    v_span numeric;
    v_end numeric;
BEGIN
    FOR v_counter IN SELECT c.* FROM idsql.prefix_counter AS c ORDER BY c.prefix LOOP
        prefix := v_counter.prefix;
        mode := v_counter.mode;
        issued := idsql._last_ordinal(v_counter);
        last_id := CASE WHEN issued > 0
                        THEN idsql._format_ordinal(v_counter.prefix, issued, v_counter.digits, v_counter.min_letters)
                   END;
        v_cap := 10::numeric ^ v_counter.digits - 1;
        v_span := 26::numeric ^ v_counter.min_letters;
        v_end := v_span * v_cap;
        WHILE v_end < issued LOOP
            v_span := v_span * 26;
            v_end := v_end + v_span * v_cap;
        END LOOP;
        capacity_left_in_width := least(v_end - issued, 9223372036854775807 - issued)::bigint;
        created_at := v_counter.created_at;
        updated_at := v_counter.updated_at;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.prefix_stats() IS
'One row per prefix: mode, last ID, IDs issued, capacity left before IDs grow a letter, timestamps.';

-- prefixed_ids/functions/id_health_check.sql
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

-- table_ids/tables/table_counter.sql
CREATE TABLE IF NOT EXISTS idsql.table_counter (
    table_name regclass PRIMARY KEY,
    id_column name NOT NULL DEFAULT 'id',
    initial_value bigint NOT NULL DEFAULT 1
        CONSTRAINT table_counter_initial_value_check CHECK (initial_value >= 1),
    seq regclass NOT NULL
        CONSTRAINT table_counter_seq_key UNIQUE,
    conflicts bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE idsql.table_counter IS
'One row per table that takes its integer IDs from idsql: its settings and the sequence behind next_id() and insert_with_retry().';
COMMENT ON COLUMN idsql.table_counter.table_name IS
'The table; regclass, so a rename or pg_dump/restore keeps the row pointing at it.';
COMMENT ON COLUMN idsql.table_counter.id_column IS
'The integer column that holds the IDs; it has a single-column unique index.';
COMMENT ON COLUMN idsql.table_counter.initial_value IS 'The first ID to issue in an empty table.';
COMMENT ON COLUMN idsql.table_counter.seq IS
'The sequence in schema idsql that issues the IDs (it holds the last one); only ever moved forward.';
COMMENT ON COLUMN idsql.table_counter.conflicts IS
'How often insert_with_retry found its ID already taken (committed calls; a count already being made by another open transaction is skipped, never waited for).';
COMMENT ON COLUMN idsql.table_counter.created_at IS 'When the table was first registered.';
COMMENT ON COLUMN idsql.table_counter.updated_at IS 'When initialize_table last registered or re-synced the table.';

-- table_ids/functions/_advance_sequence.sql
CREATE OR REPLACE FUNCTION idsql._advance_sequence(seq regclass, past bigint)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Move the sequence of a table counter forward so that its next value is
 * above past; never backwards, and values already handed out are never
 * handed out again.
 *
 * A plain setval() computed from a read of the sequence could rewind it past
 * values other sessions took in between, so a jump of up to 100 000 burns
 * the values with nextval() instead: no lock, nothing to wait for, about
 * 0.6 us a value, and the burnt values are all below an ID already in the
 * table (gaps are never refilled anyway). A longer jump takes the lock of a
 * no-op ALTER SEQUENCE (SHARE ROW EXCLUSIVE: it waits for every open
 * transaction that has called nextval() on the sequence, then blocks new ones
 * until commit), and under it setval() is safe. Two such jumps at once in
 * transactions that both hold IDs of the table deadlock (40P01, retry).
 */
DECLARE
    v_last bigint;
BEGIN
    -- A stale read is only ever too low: the burst then overshoots, which costs a gap.
    v_last := coalesce(pg_sequence_last_value(_advance_sequence.seq), 0);
    IF v_last >= _advance_sequence.past THEN
        RETURN;
    END IF;
    IF _advance_sequence.past - v_last <= 100000 THEN
        PERFORM max(nextval(_advance_sequence.seq)) FROM generate_series(v_last + 1, _advance_sequence.past);
        RETURN;
    END IF;
    EXECUTE format('ALTER SEQUENCE %s NO CYCLE', _advance_sequence.seq);
    v_last := coalesce(pg_sequence_last_value(_advance_sequence.seq), 0);
    IF v_last < _advance_sequence.past THEN
        PERFORM setval(_advance_sequence.seq, _advance_sequence.past, true);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._advance_sequence(regclass, bigint) IS
'Internal: move a table counter''s sequence forward so that its next value is above past, never backwards.';

-- table_ids/functions/_take_table_id.sql
CREATE OR REPLACE FUNCTION idsql._take_table_id(seq regclass, max_id bigint)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Take the next value of a table counter's sequence that is above max_id,
 * the largest ID the caller saw in the table: nextval(), and when a row
 * inserted with an explicit ID has overtaken the sequence, move it past that
 * row first (_advance_sequence), so a manual insert of 100 makes the next ID
 * 101. Called from the statements next_id() and insert_with_retry() prepare,
 * with max_id read by the same statement.
 */
DECLARE
    v_next bigint;
BEGIN
    v_next := nextval(_take_table_id.seq);
    IF _take_table_id.max_id >= v_next THEN
        PERFORM idsql._advance_sequence(_take_table_id.seq, _take_table_id.max_id);
        v_next := nextval(_take_table_id.seq);
    END IF;
    RETURN v_next;
END
$$;

COMMENT ON FUNCTION idsql._take_table_id(regclass, bigint) IS
'Internal: the next value of a table counter''s sequence above max_id, moving the sequence past it when needed.';

-- table_ids/functions/initialize_table.sql
CREATE OR REPLACE FUNCTION idsql.initialize_table(
    tbl regclass,
    id_column name DEFAULT 'id',
    initial_value bigint DEFAULT 1
)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Register a table for next_id() and insert_with_retry(), or re-sync it, and
 * return its next ID: max(row_count + 1, max(id_column) + 1, initial_value),
 * as the original client-side manager computed it, but never below an ID
 * already issued. Idempotent; a second call may change the id_column or
 * initial_value and never moves the counter back.
 *
 * Registering creates the table's sequence in schema idsql; a leftover of
 * the same name (from a counter row deleted by hand) is taken over, moved
 * forward only. Calls for one table are serialised by a transaction-level
 * advisory lock, so two first uses at once create one sequence; next_id()
 * never takes that lock.
 *
 * The id column must be smallint, integer or bigint with a unique,
 * non-partial, non-deferrable index on that column alone: insert_with_retry
 * detects a taken ID through ON CONFLICT on that index, and max(id) stays an
 * index lookup. count(*) reads the whole table, so this is a set-up step, not
 * a hot path.
 */
DECLARE
    v_relkind "char";
    v_attnum smallint;
    v_type regtype;
    v_count bigint;
    v_max bigint;
    v_next bigint;
    v_seq regclass;
    v_seq_name text;
BEGIN
    IF initialize_table.tbl IS NULL OR initialize_table.id_column IS NULL
       OR initialize_table.initial_value IS NULL THEN
        RAISE EXCEPTION 'tbl, id_column and initial_value must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table, e.g. initialize_table(''chat_history''); id_column and initial_value have defaults.';
    END IF;
    IF initialize_table.initial_value < 1 THEN
        RAISE EXCEPTION 'invalid initial value %', initialize_table.initial_value
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Table IDs start at 1 or above.',
                  HINT = 'Pass an initial_value of 1 or more.';
    END IF;
    SELECT c.relkind INTO v_relkind FROM pg_class AS c WHERE c.oid = initialize_table.tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', initialize_table.tbl::oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the name of an existing table.';
    END IF;
    IF v_relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', initialize_table.tbl
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'Table IDs are issued for ordinary and partitioned tables only.',
                  HINT = 'Pass the table the rows are inserted into.';
    END IF;

    SELECT a.attnum, a.atttypid::regtype INTO v_attnum, v_type
      FROM pg_attribute AS a
     WHERE a.attrelid = initialize_table.tbl AND a.attname = initialize_table.id_column
       AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', initialize_table.id_column, initialize_table.tbl
            USING ERRCODE = 'undefined_column',
                  HINT = 'Pass the name of the integer column that holds the IDs as id_column.';
    END IF;
    IF v_type NOT IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN
        RAISE EXCEPTION 'column "%" of relation "%" is not an integer column', initialize_table.id_column,
            initialize_table.tbl
            USING ERRCODE = 'datatype_mismatch',
                  DETAIL = format('The column is of type %s.', v_type),
                  HINT = 'Table IDs are stored in smallint, integer or bigint columns.';
    END IF;
    IF NOT EXISTS (
        SELECT FROM pg_index AS i
         WHERE i.indrelid = initialize_table.tbl AND i.indisunique AND i.indimmediate AND i.indisvalid
           AND i.indnkeyatts = 1 AND i.indkey[0] = v_attnum
           AND i.indpred IS NULL AND i.indexprs IS NULL
    ) THEN
        RAISE EXCEPTION 'column "%" of relation "%" has no unique index', initialize_table.id_column,
            initialize_table.tbl
            USING ERRCODE = 'ID102',  -- id_column_not_unique
                  DETAIL = 'Table IDs need a unique, non-partial, non-deferrable index on the ID column alone.',
                  HINT = format('Make it the primary key, or run CREATE UNIQUE INDEX ON %s (%I).',
                                initialize_table.tbl, initialize_table.id_column);
    END IF;

    PERFORM pg_advisory_xact_lock(hashtext('idsql.table_counter'), initialize_table.tbl::oid::integer);
    EXECUTE format('SELECT count(*), max(%I) FROM %s', initialize_table.id_column, initialize_table.tbl)
       INTO v_count, v_max;
    v_next := greatest(v_count + 1, coalesce(v_max, 0) + 1, initialize_table.initial_value);

    UPDATE idsql.table_counter AS c
       SET id_column = initialize_table.id_column,
           initial_value = initialize_table.initial_value,
           updated_at = now()
     WHERE c.table_name = initialize_table.tbl
    RETURNING c.seq INTO v_seq;
    IF FOUND THEN
        PERFORM idsql._advance_sequence(v_seq, v_next - 1);
        RETURN coalesce(pg_sequence_last_value(v_seq), 0) + 1;
    END IF;

    -- The name carries the OID, which no live relation shares; a sequence of that name that
    -- another counter uses (a dump restored with new OIDs) gets a suffix.
    v_seq_name := format('table_%s_seq', initialize_table.tbl::oid);
    FOR i IN 2..1000 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM idsql.table_counter AS c
                               WHERE c.seq = to_regclass(format('idsql.%I', v_seq_name)));
        v_seq_name := format('table_%s_%s_seq', initialize_table.tbl::oid, i);
    END LOOP;
    v_seq := to_regclass(format('idsql.%I', v_seq_name));
    IF v_seq IS NULL THEN
        EXECUTE format('CREATE SEQUENCE idsql.%I AS bigint MINVALUE 1 START 1 NO CYCLE', v_seq_name);
        v_seq := to_regclass(format('idsql.%I', v_seq_name));
        -- Invisible to other sessions until commit: nobody can be taking values from it yet.
        PERFORM setval(v_seq, greatest(v_next - 1, 1), v_next > 1);
        PERFORM idsql._share_sequence(v_seq);
    ELSE
        PERFORM idsql._advance_sequence(v_seq, v_next - 1);
    END IF;
    EXECUTE format('COMMENT ON SEQUENCE %s IS %L', v_seq,
                   format('IDs of table %s (see idsql.table_counter).', initialize_table.tbl));
    -- ON CONFLICT: under REPEATABLE READ a row another session committed after our snapshot
    -- makes this a serialization failure (40001) instead of a unique violation.
    INSERT INTO idsql.table_counter (table_name, id_column, initial_value, seq)
    VALUES (initialize_table.tbl, initialize_table.id_column, initialize_table.initial_value, v_seq)
    ON CONFLICT (table_name) DO NOTHING;
    RETURN coalesce(pg_sequence_last_value(v_seq), 0) + 1;
END
$$;

COMMENT ON FUNCTION idsql.initialize_table(regclass, name, bigint) IS
'Register or re-sync a table: its next ID becomes max(row_count + 1, max_id + 1, initial_value), never lower than before; returns it.';

-- table_ids/functions/next_id.sql
CREATE OR REPLACE FUNCTION idsql.next_id(tbl regclass)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the next ID of a table; a table used for the first time is
 * registered with initialize_table(tbl) (column id, initial value 1).
 *
 * nextval() on the table's sequence: concurrent callers never wait for each
 * other, no ID is issued twice (a sequence is not rolled back, and it is
 * WAL-logged ahead of the values it hands out, so a crash cannot reissue
 * one), and a rollback leaves a hole, as in any serial column. A row at or
 * above the value (an index lookup, max(id) from the value up) moves the
 * sequence past every row inserted with an explicit ID since, forward only
 * (_take_table_id), so a manual insert of 100 makes the next ID 101. Rows
 * other transactions have not committed yet are invisible to max();
 * insert_with_retry handles those.
 *
 * The query is prepared once per session and table (a statement named
 * idsql_next_<md5>, see insert_with_retry), so a call plans nothing.
 */
DECLARE
    v_seq regclass;
    v_column name;
    v_stmt text;
    v_next bigint;
BEGIN
    IF next_id.tbl IS NULL THEN
        RAISE EXCEPTION 'tbl must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table, e.g. next_id(''chat_history'').';
    END IF;
    LOOP
        SELECT c.seq, c.id_column INTO v_seq, v_column
          FROM idsql.table_counter AS c
         WHERE c.table_name = next_id.tbl;
        EXIT WHEN FOUND;
        PERFORM idsql.initialize_table(next_id.tbl);
    END LOOP;

    v_stmt := 'idsql_next_' || md5(jsonb_build_array(next_id.tbl::oid, next_id.tbl::text, v_column, v_seq::text)::text);
    IF NOT EXISTS (SELECT FROM pg_prepared_statements AS p WHERE p.name = v_stmt) THEN
        -- citus.version exists where Citus is loaded: there any table may be distributed at any
        -- time, even after this session prepared the statement, which Citus then cannot run.
        IF current_setting('citus.version', true) IS NULL THEN
            -- The value first, then the largest ID at or above it: the index scan reads the few
            -- entries above the bound instead of the table's last index page. A NULL (the usual
            -- case) means no row has overtaken the sequence and the value stands.
            EXECUTE format('PREPARE %I AS SELECT CASE WHEN m.id IS NULL THEN n.v ELSE idsql._take_table_id(%L, m.id) END'
                           ' FROM (SELECT nextval(%L) AS v) AS n,'
                           ' LATERAL (SELECT max(%I) AS id FROM %s WHERE %I >= n.v) AS m',
                           v_stmt, v_seq, v_seq, v_column, next_id.tbl, v_column);
        ELSE
            -- Citus cannot push a lateral subquery over a distributed table down to the shards:
            -- the unbounded max(id) there, one query of every shard.
            EXECUTE format('PREPARE %I AS SELECT idsql._take_table_id(%L, (SELECT max(%I) FROM %s))',
                           v_stmt, v_seq, v_column, next_id.tbl);
        END IF;
    END IF;
    EXECUTE format('EXECUTE %I', v_stmt) INTO v_next;
    RETURN v_next;
END
$$;

COMMENT ON FUNCTION idsql.next_id(regclass) IS
'Return the next ID of a table from its sequence, past every ID in the table; never waits; registers the table on first use.';

-- table_ids/functions/_insert_with_retry.sql
CREATE OR REPLACE FUNCTION idsql._insert_with_retry(tbl regclass, data jsonb, retry_attempts integer)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Insert data into tbl with the next ID and return the row as jsonb, or NULL
 * when every one of retry_attempts attempts found its ID taken. Shared by
 * insert_with_retry (which raises on NULL) and pyidsql.IDManager (which keeps
 * the original contract: None, and the caller's transaction still usable).
 *
 * Columns come from the keys of data, matched against the catalog (never
 * spliced from the keys themselves) and quoted; values are typed by
 * jsonb_populate_record over the table's row type; columns not in data get
 * their defaults. A taken ID is detected with ON CONFLICT (id) DO NOTHING, no
 * subtransaction: ON CONFLICT waits for the transaction that holds the ID, and
 * the next try sees that row through max(id) and skips past it (and further
 * on repeated conflicts: see the loop). retry_attempts bounds the conflicts
 * that trying again cannot outrun; a race for the ID just taken is not one.
 * A conflict on any other unique constraint raises 23505 as a plain INSERT
 * would: retrying could never help.
 *
 * The INSERT is prepared once per session for each table and set of keys, as
 * a statement named idsql_insert_<md5 of what its text depends on>, and runs
 * through EXECUTE with data as a quoted literal: planning the INSERT and
 * checking the keys against the catalog on every call cost several times the
 * INSERT itself. A statement is only ever run for the key it was prepared
 * for; one dropped by DEALLOCATE or DISCARD is prepared again. A table
 * altered later re-plans its statements as PostgreSQL always does, and a
 * column dropped or renamed since is then reported by PostgreSQL itself
 * (42703). A session keeps at most 32 of these statements: an application
 * that leaves out its NULL keys makes a set of keys per combination, and
 * each statement holds memory in the backend for as long as the session
 * lasts. Preparing one more deallocates the oldest.
 */
DECLARE
    v_column name;
    v_seq regclass;
    v_always boolean;
    v_stmt text;
    v_execute text;
    v_unknown text;
    v_generated text;
    v_identity text;
    v_has_id boolean;
    v_columns text;
    v_values text;
    v_row jsonb;
    v_oldest text;
    v_max bigint;
    v_taken text;
    v_race boolean;
    v_citus boolean;
    v_tries integer := 0;
    v_attempts integer := 0;
BEGIN
    IF _insert_with_retry.tbl IS NULL OR _insert_with_retry.data IS NULL THEN
        RAISE EXCEPTION 'tbl and data must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table and the row as a JSON object, e.g. insert_with_retry(''feedback'', ''{"rating": 5}'').';
    END IF;
    IF jsonb_typeof(_insert_with_retry.data) <> 'object' THEN
        RAISE EXCEPTION 'data must be a JSON object'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Got a JSON %s.', jsonb_typeof(_insert_with_retry.data)),
                  HINT = 'Pass the row as {"column": value, ...}, without the ID.';
    END IF;
    IF _insert_with_retry.retry_attempts IS NULL OR _insert_with_retry.retry_attempts < 1 THEN
        RAISE EXCEPTION 'invalid retry_attempts %', coalesce(_insert_with_retry.retry_attempts::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'retry_attempts is the number of IDs to try, at least 1.',
                  HINT = 'Pass 1 or more; the default is 3.';
    END IF;

    LOOP
        SELECT c.id_column, c.seq, a.attidentity = 'a' INTO v_column, v_seq, v_always
          FROM idsql.table_counter AS c
          LEFT JOIN pg_attribute AS a
            ON a.attrelid = c.table_name AND a.attname = c.id_column AND NOT a.attisdropped
         WHERE c.table_name = _insert_with_retry.tbl;
        EXIT WHEN FOUND;
        PERFORM idsql.initialize_table(_insert_with_retry.tbl);
    END LOOP;
    IF v_always IS NULL THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', v_column, _insert_with_retry.tbl
            USING ERRCODE = 'undefined_column',
                  DETAIL = 'It is the ID column the table was registered with.',
                  HINT = 'Register the table again with its ID column: initialize_table(tbl, id_column => ...).';
    END IF;

    -- Everything the statement's text depends on names it; jsonb lists an object's keys in one
    -- fixed order, so the same keys always give the same name.
    v_stmt := 'idsql_insert_' || md5(jsonb_build_array(
        _insert_with_retry.tbl::oid, _insert_with_retry.tbl::text, v_column, v_seq::text, v_always,
        jsonb_path_query_array(_insert_with_retry.data, '$.keyvalue().key'))::text);
    IF NOT EXISTS (SELECT FROM pg_prepared_statements AS p WHERE p.name = v_stmt) THEN
        SELECT string_agg(format('"%s"', k.key), ', ' ORDER BY k.key) FILTER (WHERE a.attname IS NULL),
               string_agg(format('"%s"', k.key), ', ' ORDER BY k.key) FILTER (WHERE a.attgenerated <> ''),
               string_agg(format('"%s"', k.key), ', ' ORDER BY k.key)
                   FILTER (WHERE a.attidentity = 'a' AND a.attname <> v_column),
               coalesce(bool_or(a.attname = v_column), false),
               string_agg(format(', %I', a.attname), '' ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL),
               string_agg(format(', r.%I', a.attname), '' ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL)
          INTO v_unknown, v_generated, v_identity, v_has_id, v_columns, v_values
          FROM jsonb_object_keys(_insert_with_retry.data) AS k (key)
          LEFT JOIN pg_attribute AS a
            ON a.attrelid = _insert_with_retry.tbl AND a.attname::text = k.key
           AND a.attnum > 0 AND NOT a.attisdropped;
        IF v_unknown IS NOT NULL THEN
            RAISE EXCEPTION '%', CASE WHEN strpos(v_unknown, ', ') > 0
                                      THEN format('columns %s of relation "%s" do not exist', v_unknown, _insert_with_retry.tbl)
                                      ELSE format('column %s of relation "%s" does not exist', v_unknown, _insert_with_retry.tbl)
                                 END
                USING ERRCODE = 'undefined_column',
                      DETAIL = format('Keys of data that are not columns of %s: %s.', _insert_with_retry.tbl, v_unknown),
                      HINT = 'Use the column names of the table as keys, and remove the others.';
        END IF;
        IF v_has_id THEN
            RAISE EXCEPTION 'data must not contain the ID column "%"', v_column
                USING ERRCODE = 'ID103',  -- id_in_data
                      DETAIL = 'insert_with_retry chooses the ID of every row it inserts.',
                      HINT = format('Remove "%s" from data, or insert the row with a plain INSERT if it needs that ID.',
                                    v_column);
        END IF;
        IF coalesce(v_generated, v_identity) IS NOT NULL THEN
            RAISE EXCEPTION 'cannot insert a non-DEFAULT value into column %', coalesce(v_generated, v_identity)
                USING ERRCODE = 'generated_always',
                      DETAIL = CASE WHEN v_generated IS NOT NULL THEN 'The column is a generated column.'
                                    ELSE 'The column is an identity column defined as GENERATED ALWAYS.' END,
                      HINT = 'Remove it from data: the database computes its value.';
        END IF;
        -- Loaded Citus (citus.version is its setting) may distribute any table at any time, as
        -- well after this statement is prepared; see below.
        v_citus := current_setting('citus.version', true) IS NOT NULL;
        FOR v_oldest IN
            SELECT p.name FROM pg_prepared_statements AS p
             WHERE p.name LIKE 'idsql\_insert\_%'
             ORDER BY p.prepare_time DESC, p.name DESC
            OFFSET 31
        LOOP
            EXECUTE format('DEALLOCATE %I', v_oldest);
        END LOOP;
        -- OVERRIDING SYSTEM VALUE lets the ID into a GENERATED ALWAYS identity column, and is only
        -- written then, so that PostgreSQL itself refuses any other such column. The ID is taken
        -- as next_id takes it: the sequence's value, moved on only if a row is at or above it.
        IF NOT v_citus THEN
            EXECUTE format(
                'PREPARE %1$I (jsonb) AS INSERT INTO %2$s AS t (%3$I%4$s)%5$s'
                ' SELECT CASE WHEN m.id IS NULL THEN n.v ELSE idsql._take_table_id(%6$L, m.id) END%7$s'
                ' FROM (SELECT nextval(%6$L) AS v) AS n,'
                ' LATERAL (SELECT max(%3$I) AS id FROM %2$s WHERE %3$I >= n.v) AS m,'
                ' jsonb_populate_record(NULL::%2$s, $1) AS r'
                ' ON CONFLICT (%3$I) DO NOTHING RETURNING to_jsonb(t.*)',
                v_stmt, _insert_with_retry.tbl, v_column, coalesce(v_columns, ''),
                CASE WHEN v_always THEN ' OVERRIDING SYSTEM VALUE' ELSE '' END, v_seq, coalesce(v_values, ''));
        ELSE
            -- Citus cannot push a lateral subquery over a distributed table down to the shards:
            -- there the unbounded max(id), one query of every shard.
            EXECUTE format(
                'PREPARE %1$I (jsonb) AS INSERT INTO %2$s AS t (%3$I%4$s)%5$s'
                ' SELECT idsql._take_table_id(%6$L, (SELECT max(%3$I) FROM %2$s))%7$s'
                ' FROM jsonb_populate_record(NULL::%2$s, $1) AS r'
                ' ON CONFLICT (%3$I) DO NOTHING RETURNING to_jsonb(t.*)',
                v_stmt, _insert_with_retry.tbl, v_column, coalesce(v_columns, ''),
                CASE WHEN v_always THEN ' OVERRIDING SYSTEM VALUE' ELSE '' END, v_seq, coalesce(v_values, ''));
        END IF;
    END IF;

    v_execute := format('EXECUTE %I (%L)', v_stmt, _insert_with_retry.data);
    v_taken := format('SELECT EXISTS (SELECT FROM %s WHERE %I = $1)', _insert_with_retry.tbl, v_column);
    LOOP
        v_tries := v_tries + 1;
        EXECUTE v_execute INTO v_row;
        IF v_row IS NOT NULL THEN
            RETURN v_row;
        END IF;
        -- The statement reads max(id) itself, so its ID was above every row it could see: a
        -- conflict is a race with a writer that committed (or held, and we waited for) that very
        -- ID since. Trying further on cannot fail the same way for long, so a race does not use
        -- up an attempt (up to 64 of them: far more than any race needs); only a conflict on
        -- another ID than the one taken does (a trigger rewriting the ID), as does a race past 64.
        EXECUTE v_taken INTO v_race USING currval(v_seq);
        IF NOT v_race OR v_tries > 64 THEN
            v_attempts := v_attempts + 1;
        END IF;
        UPDATE idsql.table_counter AS c
           SET conflicts = c.conflicts + 1
         WHERE c.table_name = (SELECT k.table_name
                                 FROM idsql.table_counter AS k
                                WHERE k.table_name = _insert_with_retry.tbl
                                  FOR UPDATE SKIP LOCKED);
        EXIT WHEN v_attempts >= _insert_with_retry.retry_attempts;
        -- Explicit IDs are being written right at the head of the table, where the sequence
        -- hands out its values, and a gap costs nothing while another collision costs a try. So
        -- the n-th retry starts 4^n IDs past the taken one (currval: the ID this try took; 4, 16,
        -- 64, ..., capped well inside what _advance_sequence burns without a lock), or past
        -- max(id) by as many: writers of explicit IDs aim just above max(id), and a retry that
        -- started at max(id) + 1 met them there again.
        EXECUTE format('SELECT max(%I) FROM %s', v_column, _insert_with_retry.tbl) INTO v_max;
        PERFORM idsql._advance_sequence(
            v_seq, greatest(currval(v_seq), v_max) + (4 ^ least(v_tries, 7))::bigint - 1);
    END LOOP;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION idsql._insert_with_retry(regclass, jsonb, integer) IS
'Internal: insert_with_retry without the error: NULL when every attempt found its ID taken.';

-- table_ids/functions/_retries_exhausted.sql
CREATE OR REPLACE FUNCTION idsql._retries_exhausted(tbl regclass, retry_attempts integer)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise ID101 for insert_with_retry: every one of retry_attempts attempts
 * found its ID taken. Declared to return jsonb so that insert_with_retry can
 * call it where the row would be; it never returns.
 */
DECLARE
    v_last bigint;
BEGIN
    SELECT pg_sequence_last_value(c.seq) INTO v_last
      FROM idsql.table_counter AS c
     WHERE c.table_name = _retries_exhausted.tbl;
    RAISE EXCEPTION 'could not insert into "%" after % attempt%', _retries_exhausted.tbl,
        _retries_exhausted.retry_attempts, CASE WHEN _retries_exhausted.retry_attempts = 1 THEN '' ELSE 's' END
        USING ERRCODE = 'ID101',  -- retries_exhausted
              DETAIL = format('The row''s ID was taken on every attempt; the table''s sequence is at %s.', v_last),
              HINT = 'Look for a trigger that changes the ID of inserted rows, or for many writers of explicit IDs; then retry.';
END
$$;

COMMENT ON FUNCTION idsql._retries_exhausted(regclass, integer) IS
'Internal: raise ID101 (retries exhausted) for insert_with_retry.';

-- table_ids/functions/insert_with_retry.sql
-- Insert data (a JSON object of column values, without the ID) into tbl with the table's next ID
-- and return the inserted row as jsonb, defaults applied:
-- insert_with_retry('feedback', '{"rating": 5}') -> {"id": 8, "rating": 5, ...}.
--
-- An ID found taken (a row inserted with an explicit ID that next_id() could not see yet) is
-- skipped: a later value of the table's sequence is tried, past max(id), without a
-- subtransaction. Losing the race for the ID just taken does not use up one of the
-- retry_attempts (up to 64 such races); a conflict on another ID (a trigger that changes the ID)
-- does. Concurrent callers never wait for each other; a rollback leaves a hole. When every
-- attempt fails, raises ID101 naming the table and the attempts. Unknown columns, the ID column,
-- generated columns and values of the wrong type are errors, never silently dropped.
--
-- One SQL expression with a standard body, which the planner inlines into the caller's
-- statement, so a call runs one PL/pgSQL function, not two (see _format_ordinal: bound when
-- created, no search_path applies, no SET).
CREATE OR REPLACE FUNCTION idsql.insert_with_retry(tbl regclass, data jsonb, retry_attempts integer DEFAULT 3)
    RETURNS jsonb
    LANGUAGE sql
    VOLATILE
RETURN coalesce(idsql._insert_with_retry(tbl, data, retry_attempts), idsql._retries_exhausted(tbl, retry_attempts));

COMMENT ON FUNCTION idsql.insert_with_retry(regclass, jsonb, integer) IS
'Insert a row (jsonb, without its ID) with the next ID, skipping IDs found taken, and return it with its defaults.';

-- table_ids/functions/initialize.sql
CREATE OR REPLACE FUNCTION idsql.initialize(tables regclass[] DEFAULT NULL)
    RETURNS TABLE (table_name regclass, next_id bigint)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Re-sync the counters of the given tables (registering those that are new,
 * with column id and initial value 1) or, with NULL, of every registered
 * table, with initialize_table and each table's own settings; return each
 * table with its next ID, in name order. With NULL, counters of tables that
 * have been dropped are deleted first, with their sequences (a NOTICE says
 * how many).
 */
DECLARE
    v_forgotten integer := 0;
    v_seq regclass;
    v_column name;
    v_initial bigint;
BEGIN
    IF initialize.tables IS NULL THEN
        FOR v_seq IN
            DELETE FROM idsql.table_counter AS c
             WHERE NOT EXISTS (SELECT FROM pg_class AS k WHERE k.oid = c.table_name)
            RETURNING c.seq
        LOOP
            IF EXISTS (SELECT FROM pg_class AS k WHERE k.oid = v_seq) THEN
                EXECUTE format('DROP SEQUENCE %s', v_seq);
            END IF;
            v_forgotten := v_forgotten + 1;
        END LOOP;
        IF v_forgotten > 0 THEN
            RAISE NOTICE 'forgot the counters of % dropped table(s)', v_forgotten;
        END IF;
    ELSIF array_position(initialize.tables, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'tables must not contain NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass table names, or NULL for every registered table.';
    END IF;
    FOR table_name IN
        SELECT t.tbl
          FROM (SELECT c.table_name AS tbl FROM idsql.table_counter AS c WHERE initialize.tables IS NULL
                UNION
                SELECT u.tbl FROM unnest(initialize.tables) AS u (tbl)) AS t
         ORDER BY t.tbl::text
    LOOP
        SELECT c.id_column, c.initial_value INTO v_column, v_initial
          FROM idsql.table_counter AS c
         WHERE c.table_name = initialize.table_name;
        next_id := idsql.initialize_table(initialize.table_name, coalesce(v_column, 'id'), coalesce(v_initial, 1));
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.initialize(regclass[]) IS
'Re-sync the counters of the given tables, or of every registered table; returns each table and its next ID.';

-- negotiation/tables/id_strategy.sql
CREATE TABLE IF NOT EXISTS idsql.id_strategy (
    tbl regclass PRIMARY KEY,
    strategy text NOT NULL DEFAULT 'client'
        CONSTRAINT id_strategy_strategy_check CHECK (strategy IN ('client', 'server')),
    generator text
        CONSTRAINT id_strategy_generator_check
        CHECK (generator IN ('default', 'uuidv7') OR generator ~ '^prefix:[A-Z_][A-Z0-9_]{0,19}$'),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT id_strategy_generator_server_check CHECK ((strategy = 'server') = (generator IS NOT NULL))
);

COMMENT ON TABLE idsql.id_strategy IS
'ID negotiation: how each table gets its IDs; a table without a row uses client IDs, which never change.';
COMMENT ON COLUMN idsql.id_strategy.tbl IS 'The table whose single-column primary key is negotiated.';
COMMENT ON COLUMN idsql.id_strategy.strategy IS
'client: the client''s ID is permanent; server: temporary client IDs are replaced by server IDs.';
COMMENT ON COLUMN idsql.id_strategy.generator IS
'Where server IDs come from: prefix:INV (generate_id), default (the column default or identity), uuidv7.';
COMMENT ON COLUMN idsql.id_strategy.updated_at IS 'Last change of the strategy.';

-- negotiation/sequences/temp_id_seq.sql
-- Temporary IDs of integer keys: negative, so they can never equal a permanent ID
-- that a sequence or identity (counting up from 1) hands out.
CREATE SEQUENCE IF NOT EXISTS idsql.temp_id_seq AS bigint INCREMENT BY -1 MAXVALUE -1 START WITH -1;

COMMENT ON SEQUENCE idsql.temp_id_seq IS
'ID negotiation: the negative temporary IDs that new_temp_id() issues for integer keys.';

-- negotiation/tables/temp_id.sql
CREATE TABLE IF NOT EXISTS idsql.temp_id (
    tbl regclass NOT NULL,
    temp_id text NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT temp_id_pkey PRIMARY KEY (tbl, temp_id)
);

COMMENT ON TABLE idsql.temp_id IS
'ID negotiation: every temporary ID new_temp_id() issued, so is_temp_id() knows it.';
COMMENT ON COLUMN idsql.temp_id.tbl IS 'The table the temporary ID was issued for.';
COMMENT ON COLUMN idsql.temp_id.temp_id IS 'The temporary ID, as text.';
COMMENT ON COLUMN idsql.temp_id.issued_at IS 'When it was issued.';

-- negotiation/tables/id_mapping.sql
CREATE TABLE IF NOT EXISTS idsql.id_mapping (
    tbl regclass NOT NULL,
    temp_id text NOT NULL,
    permanent_id text NOT NULL,
    log_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT id_mapping_pkey PRIMARY KEY (tbl, temp_id),
    CONSTRAINT id_mapping_permanent_key UNIQUE (tbl, permanent_id)
);

COMMENT ON TABLE idsql.id_mapping IS
'ID negotiation: temporary -> permanent ID of every replacement, so late references still resolve.';
COMMENT ON COLUMN idsql.id_mapping.tbl IS 'The table whose key was replaced.';
COMMENT ON COLUMN idsql.id_mapping.temp_id IS 'The temporary ID, as text.';
COMMENT ON COLUMN idsql.id_mapping.permanent_id IS 'The permanent ID that replaced it, as text.';
COMMENT ON COLUMN idsql.id_mapping.log_id IS 'The id_change_log row of the replacement.';
COMMENT ON COLUMN idsql.id_mapping.created_at IS 'When the replacement was made.';

-- negotiation/tables/id_change_log.sql
CREATE TABLE IF NOT EXISTS idsql.id_change_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl regclass NOT NULL,
    old_id text NOT NULL,
    new_id text NOT NULL,
    touched jsonb NOT NULL,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE idsql.id_change_log IS
'ID negotiation: one row per ID replacement, written in its transaction; listeners replay it after a disconnect.';
COMMENT ON COLUMN idsql.id_change_log.id IS 'Position in the log; the log_id of the idsql_id_changed notification.';
COMMENT ON COLUMN idsql.id_change_log.tbl IS 'The table whose key was replaced.';
COMMENT ON COLUMN idsql.id_change_log.old_id IS 'The temporary ID, as text.';
COMMENT ON COLUMN idsql.id_change_log.new_id IS 'The permanent ID, as text.';
COMMENT ON COLUMN idsql.id_change_log.touched IS 'What replace_id_everywhere() returned: rows rewritten per table.';
COMMENT ON COLUMN idsql.id_change_log.txid IS 'The transaction that made the replacement.';
COMMENT ON COLUMN idsql.id_change_log.created_at IS 'When the replacement was made.';

-- negotiation/tables/sync_queue.sql
CREATE TABLE IF NOT EXISTS idsql.sync_queue (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_type regclass NOT NULL,
    model_id text NOT NULL,
    temporary_client_id text
        CONSTRAINT sync_queue_temporary_client_id_key UNIQUE,
    operation text NOT NULL
        CONSTRAINT sync_queue_operation_check CHECK (operation IN ('create', 'update', 'delete')),
    payload jsonb NOT NULL DEFAULT '{}',
    id_negotiation_status text NOT NULL DEFAULT 'pending'
        CONSTRAINT sync_queue_status_check
        CHECK (id_negotiation_status IN ('pending', 'in_progress', 'complete', 'failed', 'conflict')),
    attempts integer NOT NULL DEFAULT 0
        CONSTRAINT sync_queue_attempts_check CHECK (attempts >= 0),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz
);

CREATE INDEX IF NOT EXISTS sync_queue_claim_idx ON idsql.sync_queue (id)
WHERE id_negotiation_status IN ('pending', 'failed');

CREATE INDEX IF NOT EXISTS sync_queue_model_idx ON idsql.sync_queue (model_type, model_id);

COMMENT ON TABLE idsql.sync_queue IS
'ID negotiation: changes waiting to reach the remote API; temporary IDs in it are rewritten with the rows.';
COMMENT ON COLUMN idsql.sync_queue.id IS 'Queue position: items are claimed in this order.';
COMMENT ON COLUMN idsql.sync_queue.model_type IS 'The table of the changed row.';
COMMENT ON COLUMN idsql.sync_queue.model_id IS 'The key of the changed row, as text (rewritten when the key is replaced).';
COMMENT ON COLUMN idsql.sync_queue.temporary_client_id IS
'The temporary ID a create was queued with (rewritten to the permanent ID when it is replaced).';
COMMENT ON COLUMN idsql.sync_queue.operation IS 'create, update or delete.';
COMMENT ON COLUMN idsql.sync_queue.payload IS
'What to send; string values equal to a replaced temporary ID are rewritten, substrings never.';
COMMENT ON COLUMN idsql.sync_queue.id_negotiation_status IS
'pending -> in_progress -> complete | failed | conflict; failed -> pending | in_progress; conflict -> pending.';
COMMENT ON COLUMN idsql.sync_queue.attempts IS 'How many times the item was claimed.';
COMMENT ON COLUMN idsql.sync_queue.last_error IS 'The error of the last failed attempt.';
COMMENT ON COLUMN idsql.sync_queue.created_at IS 'When the item was queued.';
COMMENT ON COLUMN idsql.sync_queue.updated_at IS 'Last status change.';
COMMENT ON COLUMN idsql.sync_queue.claimed_at IS 'When the item was last claimed.';

-- negotiation/functions/tg_sync_queue_transition.sql
CREATE OR REPLACE FUNCTION idsql.tg_sync_queue_transition()
    RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * BEFORE UPDATE OF id_negotiation_status on idsql.sync_queue: accept only the
 * legal moves, whoever makes them (the queue functions or a hand-written
 * UPDATE), and stamp updated_at:
 *   pending     -> in_progress, conflict
 *   in_progress -> complete, failed, conflict, pending (released unfinished)
 *   failed      -> pending, in_progress (retried)
 *   conflict    -> pending (resolved)
 *   complete    -> nothing
 */
BEGIN
    IF NEW.id_negotiation_status IS DISTINCT FROM OLD.id_negotiation_status THEN
        IF NOT (OLD.id_negotiation_status, NEW.id_negotiation_status) IN (
                ('pending', 'in_progress'), ('pending', 'conflict'),
                ('in_progress', 'complete'), ('in_progress', 'failed'),
                ('in_progress', 'conflict'), ('in_progress', 'pending'),
                ('failed', 'pending'), ('failed', 'in_progress'),
                ('conflict', 'pending')) THEN
            RAISE EXCEPTION 'sync item % cannot go from % to %',
                            OLD.id, OLD.id_negotiation_status, NEW.id_negotiation_status
                USING ERRCODE = 'ID412',  -- invalid_status_transition
                      DETAIL = format('Allowed from %s: %s.', OLD.id_negotiation_status,
                                      CASE OLD.id_negotiation_status
                                          WHEN 'pending' THEN 'in_progress, conflict'
                                          WHEN 'in_progress' THEN 'complete, failed, conflict, pending'
                                          WHEN 'failed' THEN 'pending, in_progress'
                                          WHEN 'conflict' THEN 'pending'
                                          ELSE 'nothing' END),
                      HINT = 'Claim items with claim_sync_batch(), then call complete_sync() or fail_sync().';
        END IF;
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION idsql.tg_sync_queue_transition() IS
'Trigger function: refuse illegal id_negotiation_status changes on idsql.sync_queue and stamp updated_at.';

-- negotiation/triggers/sync_queue_transition.sql
CREATE OR REPLACE TRIGGER idsql_sync_queue_transition
BEFORE UPDATE OF id_negotiation_status ON idsql.sync_queue
FOR EACH ROW EXECUTE FUNCTION idsql.tg_sync_queue_transition();

COMMENT ON TRIGGER idsql_sync_queue_transition ON idsql.sync_queue IS
'Only legal id_negotiation_status transitions are accepted.';

-- negotiation/functions/_negotiation_key.sql
CREATE OR REPLACE FUNCTION idsql._negotiation_key(
    tbl regclass,
    OUT column_name name,
    OUT attnum smallint,
    OUT type_name regtype,
    OUT kind text
)
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the key that ID negotiation rewrites: the table's single-column
 * primary key, its type (a regtype, whose text is safe to splice after ::) and
 * its kind: text (any string type), integer (smallint, integer, bigint) or
 * uuid. Anything else is refused: a temporary ID must fit the same column as
 * the permanent one and never equal one, which these three kinds allow.
 */
DECLARE
    v_nkeys smallint;
    v_attnum smallint;
    v_type oid;
    v_identity "char";
BEGIN
    SELECT i.indnkeyatts, i.indkey[0] INTO v_nkeys, v_attnum
      FROM pg_index AS i
     WHERE i.indrelid = _negotiation_key.tbl AND i.indisprimary;
    IF v_nkeys IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION 'table % has no single-column primary key', _negotiation_key.tbl
            USING ERRCODE = 'ID401',  -- unsupported_key
                  DETAIL = CASE WHEN v_nkeys IS NULL THEN 'The table has no primary key.'
                           ELSE format('The primary key has %s columns.', v_nkeys) END,
                  HINT = 'ID negotiation rewrites one key column; give the table a single-column primary key.';
    END IF;
    SELECT a.attname, a.attnum, a.atttypid, a.atttypid::regtype, a.attidentity
      INTO column_name, attnum, v_type, type_name, v_identity
      FROM pg_attribute AS a
     WHERE a.attrelid = _negotiation_key.tbl AND a.attnum = v_attnum;
    kind := CASE
        WHEN v_type IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN 'integer'
        WHEN v_type = 'uuid'::regtype THEN 'uuid'
        WHEN (SELECT t.typcategory FROM pg_type AS t WHERE t.oid = v_type) = 'S' THEN 'text'
    END;
    IF kind IS NULL OR v_identity = 'a' THEN
        RAISE EXCEPTION 'cannot negotiate the key %.% of type %', _negotiation_key.tbl, column_name, type_name
            USING ERRCODE = 'ID401',  -- unsupported_key
                  DETAIL = CASE WHEN v_identity = 'a' THEN 'The column is GENERATED ALWAYS AS IDENTITY, which refuses updates.'
                           ELSE 'Negotiated keys are text, varchar, smallint, integer, bigint or uuid.' END,
                  HINT = 'Use a text, integer or uuid key; an identity key must be GENERATED BY DEFAULT.';
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._negotiation_key(regclass) IS
'Internal: the single-column primary key ID negotiation rewrites, its type name and kind (text, integer, uuid).';

-- negotiation/functions/_uuidv7.sql
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

-- negotiation/functions/_lock_temp_id.sql
CREATE OR REPLACE FUNCTION idsql._lock_temp_id(tbl regclass, temp_id text, shared boolean)
    RETURNS void
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Take the transaction-level advisory lock of one temporary ID: exclusive
 * while it is replaced, shared by the late-reference trigger, which so waits
 * for a replacement in flight and then sees its mapping. The two-key form,
 * with a first key of its own, keeps clear of the caller's bigint locks.
 */
SELECT CASE WHEN shared
            THEN pg_advisory_xact_lock_shared(hashtext('idsql negotiation'), hashtext(tbl::oid::text || ':' || temp_id))
            ELSE pg_advisory_xact_lock(hashtext('idsql negotiation'), hashtext(tbl::oid::text || ':' || temp_id))
       END;
$$;

COMMENT ON FUNCTION idsql._lock_temp_id(regclass, text, boolean) IS
'Internal: the advisory lock that serialises replacements of one temporary ID (shared for late references).';

-- negotiation/functions/_referencing_fks.sql
CREATE OR REPLACE FUNCTION idsql._referencing_fks(tbl regclass, key_attnum smallint)
    RETURNS TABLE (
        constraint_name name,
        child regclass,
        child_columns name[],
        child_key_column name,
        child_key_type regtype,
        other_child_columns name[],
        other_parent_columns name[],
        on_update text,
        indexed boolean,
        problem text,
        match_condition text
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return every foreign key whose referenced columns include tbl's key column
 * (attnum key_attnum), with the referencing column that holds the key and the
 * other column pairs a composite key must match. conkey and confkey are paired
 * by position, never by attnum order, so a key declared as (b, a) maps right.
 * Clones that partitions inherit (conparentid <> 0) are skipped: the
 * constraint on the partitioned table covers them, and rows are rewritten
 * through it. problem is NULL when the key can be rewritten, else the reason
 * it cannot: ON UPDATE RESTRICT / SET NULL / SET DEFAULT, or a non-deferrable
 * NO ACTION key in a two-table cycle. match_condition is the SQL test that a
 * row of the child (alias c) references the row of tbl whose key is $2: the
 * key column equals $2 and, for a composite key, the other columns equal the
 * parent row's (a NULL column matches nothing, as in MATCH SIMPLE), so other
 * tenants' rows with the same value are never touched. Ordered by child, then
 * name, so concurrent negotiations touch tables in the same order.
 */
SELECT c.conname,
       c.conrelid::regclass,
       cols.child_columns,
       cols.child_key_column,
       cols.child_key_type,
       cols.other_child_columns,
       cols.other_parent_columns,
       CASE c.confupdtype
           WHEN 'a' THEN 'NO ACTION'
           WHEN 'r' THEN 'RESTRICT'
           WHEN 'c' THEN 'CASCADE'
           WHEN 'n' THEN 'SET NULL'
           WHEN 'd' THEN 'SET DEFAULT'
       END || CASE WHEN c.condeferrable THEN ' DEFERRABLE' ELSE '' END,
       EXISTS (SELECT FROM pg_index AS i
                WHERE i.indrelid = c.conrelid AND i.indkey[0] = cols.child_key_attnum),
       CASE
           WHEN c.confupdtype = 'r' THEN 'ON UPDATE RESTRICT forbids changing the referenced key'
           WHEN c.confupdtype = 'n' THEN 'ON UPDATE SET NULL would clear the references'
           WHEN c.confupdtype = 'd' THEN 'ON UPDATE SET DEFAULT would overwrite the references'
           WHEN c.confupdtype = 'a' AND NOT c.condeferrable AND c.conrelid <> c.confrelid
                AND EXISTS (SELECT FROM pg_constraint AS back
                             WHERE back.contype = 'f' AND back.conrelid = c.confrelid
                               AND back.confrelid = c.conrelid)
               THEN 'non-deferrable foreign key in a cycle'
       END,
       format('c.%I = $2::%s', cols.child_key_column, cols.child_key_type)
       || CASE WHEN cardinality(cols.other_child_columns) = 0 THEN ''
               ELSE format(' AND (%s) = (SELECT %s FROM %s AS p WHERE p.%I = $2::%s)',
                           (SELECT string_agg(format('c.%I', x.col), ', ' ORDER BY x.ord)
                              FROM unnest(cols.other_child_columns) WITH ORDINALITY AS x (col, ord)),
                           (SELECT string_agg(format('p.%I', x.col), ', ' ORDER BY x.ord)
                              FROM unnest(cols.other_parent_columns) WITH ORDINALITY AS x (col, ord)),
                           _referencing_fks.tbl, pk.attname, pk.atttypid::regtype)
          END
  FROM pg_constraint AS c
  JOIN pg_attribute AS pk ON pk.attrelid = c.confrelid AND pk.attnum = _referencing_fks.key_attnum
 CROSS JOIN LATERAL (
       SELECT array_agg(ca.attname ORDER BY k.ord) AS child_columns,
              min(ca.attname) FILTER (WHERE k.parent_att = _referencing_fks.key_attnum) AS child_key_column,
              min(k.child_att) FILTER (WHERE k.parent_att = _referencing_fks.key_attnum) AS child_key_attnum,
              (array_agg(ca.atttypid::regtype)
                  FILTER (WHERE k.parent_att = _referencing_fks.key_attnum))[1] AS child_key_type,
              coalesce(array_agg(ca.attname ORDER BY k.ord)
                           FILTER (WHERE k.parent_att <> _referencing_fks.key_attnum), '{}') AS other_child_columns,
              coalesce(array_agg(pa.attname ORDER BY k.ord)
                           FILTER (WHERE k.parent_att <> _referencing_fks.key_attnum), '{}') AS other_parent_columns
         FROM unnest(c.conkey, c.confkey) WITH ORDINALITY AS k (child_att, parent_att, ord)
         JOIN pg_attribute AS ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_att
         JOIN pg_attribute AS pa ON pa.attrelid = c.confrelid AND pa.attnum = k.parent_att
       ) AS cols
 WHERE c.contype = 'f'
   AND c.confrelid = _referencing_fks.tbl
   AND c.conparentid = 0
   AND _referencing_fks.key_attnum = ANY (c.confkey)
 ORDER BY c.conrelid::regclass::text, c.conname;
$$;

COMMENT ON FUNCTION idsql._referencing_fks(regclass, smallint) IS
'Internal: the foreign keys that reference a table''s key column, paired by position, with the reason any is unsafe.';

-- negotiation/functions/_jsonb_replace_value.sql
CREATE OR REPLACE FUNCTION idsql._jsonb_replace_value(doc jsonb, old_value jsonb, new_value jsonb)
    RETURNS jsonb
    LANGUAGE sql
    IMMUTABLE
    PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return doc with every scalar equal to old_value replaced by new_value, at
 * any depth. Only whole values are compared: a string that merely contains
 * the old value, and object keys, are left alone.
 */
SELECT CASE jsonb_typeof(doc)
           WHEN 'object' THEN
               (SELECT coalesce(jsonb_object_agg(e.key, idsql._jsonb_replace_value(e.value, old_value, new_value)),
                                '{}')
                  FROM jsonb_each(doc) AS e)
           WHEN 'array' THEN
               (SELECT coalesce(jsonb_agg(idsql._jsonb_replace_value(a.value, old_value, new_value)
                                          ORDER BY a.ord),
                                '[]')
                  FROM jsonb_array_elements(doc) WITH ORDINALITY AS a (value, ord))
           ELSE CASE WHEN doc = old_value THEN new_value ELSE doc END
       END;
$$;

COMMENT ON FUNCTION idsql._jsonb_replace_value(jsonb, jsonb, jsonb) IS
'Internal: the document with every scalar equal to a value replaced, at any depth; substrings and keys untouched.';

-- negotiation/functions/new_temp_id.sql
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

-- negotiation/functions/is_temp_id.sql
CREATE OR REPLACE FUNCTION idsql.is_temp_id(tbl regclass, id text)
    RETURNS boolean
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return whether id is a temporary ID for tbl: it has the shape new_temp_id()
 * gives (and offline clients copy) for the key's kind, or new_temp_id()
 * recorded it. NULL for a NULL id.
 */
DECLARE
    v_kind text;
BEGIN
    IF is_temp_id.id IS NULL THEN
        RETURN NULL;
    END IF;
    v_kind := (idsql._negotiation_key(is_temp_id.tbl)).kind;
    RETURN CASE v_kind
               WHEN 'text' THEN starts_with(is_temp_id.id, 'tmp_')
               WHEN 'integer' THEN is_temp_id.id ~ '^\s*-[0-9]+\s*$'
               ELSE lower(is_temp_id.id) ~ '^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$'
           END
        OR EXISTS (SELECT FROM idsql.temp_id AS t
                    WHERE t.tbl = is_temp_id.tbl AND t.temp_id = is_temp_id.id);
END
$$;

COMMENT ON FUNCTION idsql.is_temp_id(regclass, text) IS
'Return whether the ID is a temporary ID of the table (issued by new_temp_id or of the same shape).';

-- negotiation/functions/resolve_id.sql
CREATE OR REPLACE FUNCTION idsql.resolve_id(tbl regclass, id text)
    RETURNS text
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the permanent ID that replaced a temporary one, or the ID itself
 * (permanent IDs are never temporary, so there are no chains to follow).
 */
SELECT coalesce(
    (SELECT m.permanent_id FROM idsql.id_mapping AS m
      WHERE m.tbl = resolve_id.tbl AND m.temp_id = resolve_id.id),
    resolve_id.id
);
$$;

COMMENT ON FUNCTION idsql.resolve_id(regclass, text) IS
'Return the permanent ID for a temporary one that was replaced, the ID itself otherwise.';

-- negotiation/functions/set_id_strategy.sql
CREATE OR REPLACE FUNCTION idsql.set_id_strategy(tbl regclass, strategy text, generator text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Choose how tbl gets its IDs. client (the default for every table) never
 * changes an ID; server replaces temporary IDs with IDs from the generator:
 * prefix:INV (generate_id, text keys), default (the key's DEFAULT or
 * identity), uuidv7 (uuid or text keys); server without a generator means
 * default. Switching from server to client is refused while rows of tbl
 * still carry temporary IDs: they would be stranded, never replaced. (From
 * client to server is allowed: rows already shaped like temporary IDs become
 * negotiable.) Takes SHARE ROW EXCLUSIVE on tbl so no temporary ID arrives
 * while the rows are checked.
 */
DECLARE
    v_key record;
    v_generator text := set_id_strategy.generator;
    v_pending text;
    v_has_default boolean;
BEGIN
    IF set_id_strategy.strategy IS NULL OR set_id_strategy.strategy NOT IN ('client', 'server') THEN
        RAISE EXCEPTION 'invalid ID strategy "%"', left(coalesce(set_id_strategy.strategy, 'NULL'), 40)
            USING ERRCODE = 'ID402',  -- invalid_strategy
                  DETAIL = 'The strategy is client or server.',
                  HINT = 'Use client (IDs never change) or server (temporary IDs are replaced by server IDs).';
    END IF;
    v_key := idsql._negotiation_key(set_id_strategy.tbl);
    IF set_id_strategy.strategy = 'client' THEN
        IF v_generator IS NOT NULL THEN
            RAISE EXCEPTION 'the client strategy takes no generator'
                USING ERRCODE = 'ID402',  -- invalid_strategy
                      DETAIL = format('The generator given was "%s".', left(v_generator, 40)),
                      HINT = 'Leave the generator out, or use the server strategy.';
        END IF;
    ELSE
        v_generator := coalesce(v_generator, 'default');
        SELECT EXISTS (SELECT FROM pg_attrdef AS d
                        WHERE d.adrelid = set_id_strategy.tbl AND d.adnum = v_key.attnum)
               OR (SELECT a.attidentity <> '' FROM pg_attribute AS a
                    WHERE a.attrelid = set_id_strategy.tbl AND a.attnum = v_key.attnum)
          INTO v_has_default;
        IF NOT (v_generator = 'uuidv7' AND v_key.kind IN ('uuid', 'text')
                OR v_generator ~ '^prefix:[A-Z_][A-Z0-9_]{0,19}$' AND v_key.kind = 'text'
                OR v_generator = 'default' AND v_has_default) THEN
            RAISE EXCEPTION 'generator "%" cannot make IDs for %.%',
                            left(v_generator, 40), set_id_strategy.tbl, v_key.column_name
                USING ERRCODE = 'ID402',  -- invalid_strategy
                      DETAIL = format('The key is of type %s%s.', v_key.type_name,
                                      CASE WHEN v_has_default THEN '' ELSE ' without a default' END),
                      HINT = 'Use prefix:XXX for text keys, uuidv7 for uuid or text keys, '
                             'or default for a key with a DEFAULT or identity.';
        END IF;
    END IF;

    IF set_id_strategy.strategy = 'client' AND
       (SELECT s.strategy FROM idsql.id_strategy AS s WHERE s.tbl = set_id_strategy.tbl) = 'server' THEN
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', set_id_strategy.tbl);
        EXECUTE format('SELECT t.%I::text FROM %s AS t WHERE idsql.is_temp_id($1, t.%I::text) LIMIT 1',
                       v_key.column_name, set_id_strategy.tbl, v_key.column_name)
           INTO v_pending
          USING set_id_strategy.tbl;
        IF v_pending IS NOT NULL THEN
            RAISE EXCEPTION 'table % still has temporary IDs', set_id_strategy.tbl
                USING ERRCODE = 'ID403',  -- strategy_locked
                      DETAIL = format('Row %s = %s, for example, has not been negotiated.',
                                      v_key.column_name, v_pending),
                      HINT = 'Negotiate or delete the rows with temporary IDs, then switch the strategy.';
        END IF;
    END IF;

    INSERT INTO idsql.id_strategy AS s (tbl, strategy, generator)
    VALUES (set_id_strategy.tbl, set_id_strategy.strategy, v_generator)
    ON CONFLICT ON CONSTRAINT id_strategy_pkey DO UPDATE
        SET strategy = excluded.strategy, generator = excluded.generator, updated_at = now();
END
$$;

COMMENT ON FUNCTION idsql.set_id_strategy(regclass, text, text) IS
'Choose client IDs (never change) or server IDs (temporary IDs replaced, from prefix:XXX, default or uuidv7) for a table.';

-- negotiation/functions/_replace_id.sql
CREATE OR REPLACE FUNCTION idsql._replace_id(tbl regclass, old_id text, new_id text, notify boolean)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The body of replace_id_everywhere(); negotiate_ids() calls it with notify
 * false and sends one notification for the batch.
 *
 * Order: check everything, then write. (1) Canonical text of both IDs via the
 * key's type (' -5' and '-5' are one ID). (2) The advisory lock of the
 * temporary ID, then the mapping: a second session replacing the same ID waits
 * here and, once the first commits, finds the mapping and returns its result.
 * (3) The row, locked FOR UPDATE; the new ID must be free. (4) Every
 * referencing foreign key from the catalog; any that cannot be rewritten, or
 * whose rows row-level security hides from the caller, is refused before
 * anything changes. (5) One UPDATE per table, all in one statement
 * (data-modifying CTEs): PostgreSQL checks NO ACTION keys, deferrable or not,
 * at the end of the statement, when the key and every reference already carry
 * the new value, so no row is copied and no constraint is deferred. A table
 * whose rows reference the key through several columns (several keys, or
 * itself) gets one UPDATE with a CASE per column, since one statement must not
 * update a row twice. ON UPDATE CASCADE keys are rewritten the same way; the
 * cascade then finds nothing left to do. (6) The sync queue, the mapping, the
 * change log and NOTIFY, delivered on commit only.
 * While it runs, the setting idsql.negotiating is 'on' so that user triggers
 * can tell an ID rewrite from an edit.
 */
DECLARE
    v_key record;
    v_strategy text;
    v_old text;
    v_new text;
    v_mapped text;
    v_log_id bigint;
    v_found boolean;
    v_fk record;
    v_citus record;
    v_tables regclass[];
    v_updates text[];
    v_counts bigint[];
    v_queue bigint;
    v_touched jsonb;
    v_old_values jsonb[];
    v_new_values jsonb[];
    v_payload text;
BEGIN
    IF _replace_id.tbl IS NULL OR _replace_id.old_id IS NULL OR _replace_id.new_id IS NULL THEN
        RAISE EXCEPTION 'table, old_id and new_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    v_key := idsql._negotiation_key(_replace_id.tbl);
    SELECT s.strategy INTO v_strategy FROM idsql.id_strategy AS s WHERE s.tbl = _replace_id.tbl;
    IF v_strategy IS DISTINCT FROM 'server' THEN
        RAISE EXCEPTION 'table % uses client IDs', _replace_id.tbl
            USING ERRCODE = 'ID404',  -- client_id_table
                  DETAIL = 'Under the client strategy an ID never changes.',
                  HINT = 'Call set_id_strategy(table, ''server'') first if its IDs come from the server.';
    END IF;
    EXECUTE format('SELECT $1::%s::text, $2::%s::text', v_key.type_name, v_key.type_name)
       INTO v_old, v_new
      USING _replace_id.old_id, _replace_id.new_id;
    IF NOT idsql.is_temp_id(_replace_id.tbl, v_old) THEN
        RAISE EXCEPTION '"%" is not a temporary ID of %', left(v_old, 100), _replace_id.tbl
            USING ERRCODE = 'ID405',  -- not_temporary_id
                  DETAIL = format('Temporary IDs of this %s key %s.', v_key.kind,
                                  CASE v_key.kind WHEN 'text' THEN 'start with tmp_'
                                                  WHEN 'integer' THEN 'are negative'
                                                  ELSE 'are version 8 UUIDs' END),
                  HINT = 'Only a temporary ID (see new_temp_id) is replaced; a permanent ID never changes.';
    END IF;
    IF idsql.is_temp_id(_replace_id.tbl, v_new) THEN
        RAISE EXCEPTION 'the new ID "%" is itself temporary', left(v_new, 100)
            USING ERRCODE = 'ID406',  -- temporary_new_id
                  DETAIL = format('Replacing %s of %s.', left(v_old, 100), _replace_id.tbl),
                  HINT = 'Replace a temporary ID with a permanent one, such as assign_server_id() allocates.';
    END IF;

    PERFORM idsql._lock_temp_id(_replace_id.tbl, v_old, false);
    SELECT m.permanent_id, m.log_id INTO v_mapped, v_log_id
      FROM idsql.id_mapping AS m
     WHERE m.tbl = _replace_id.tbl AND m.temp_id = v_old;
    IF FOUND THEN
        IF v_mapped = v_new THEN
            RETURN (SELECT l.touched FROM idsql.id_change_log AS l WHERE l.id = v_log_id);
        END IF;
        RAISE EXCEPTION 'temporary ID "%" of % was already replaced by "%"', v_old, _replace_id.tbl, v_mapped
            USING ERRCODE = 'ID408',  -- mapping_conflict
                  DETAIL = format('Asked to replace it by "%s"; change log entry %s.', left(v_new, 100), v_log_id),
                  HINT = 'Use the permanent ID that replaced it (resolve_id); a temporary ID is replaced once.';
    END IF;

    EXECUTE format('SELECT true FROM %s AS t WHERE t.%I = $1::%s FOR UPDATE',
                   _replace_id.tbl, v_key.column_name, v_key.type_name)
       INTO v_found
      USING v_old;
    IF v_found IS NULL THEN
        RAISE EXCEPTION 'no row of % has the temporary ID "%"', _replace_id.tbl, v_old
            USING ERRCODE = 'ID407',  -- temporary_id_not_found
                  DETAIL = format('Looked for %s = %s.', v_key.column_name, v_old),
                  HINT = 'Insert the row with its temporary ID before negotiating it.';
    END IF;
    EXECUTE format('SELECT true FROM %s AS t WHERE t.%I = $1::%s',
                   _replace_id.tbl, v_key.column_name, v_key.type_name)
       INTO v_found
      USING v_new;
    IF v_found OR EXISTS (SELECT FROM idsql.id_mapping AS m
                           WHERE m.tbl = _replace_id.tbl AND m.permanent_id = v_new) THEN
        RAISE EXCEPTION 'ID "%" is already in use in %', left(v_new, 100), _replace_id.tbl
            USING ERRCODE = 'ID409',  -- id_collision
                  DETAIL = format('Replacing %s: %s.', left(v_old, 100),
                                  CASE WHEN v_found THEN 'a row already has the new ID'
                                       ELSE 'the new ID replaced another temporary ID before' END),
                  HINT = 'Ask the server for another ID, or merge the two rows yourself.';
    END IF;

    -- On a Citus server only: nothing here may be a table Citus manages (see the RAISE).
    IF to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        FOR v_fk IN SELECT _replace_id.tbl AS child, v_key.column_name AS child_key_column
                    UNION ALL
                    SELECT f.child, f.child_key_column FROM idsql._referencing_fks(_replace_id.tbl, v_key.attnum) AS f
        LOOP
            v_citus := idsql._citus_table(v_fk.child);
            IF v_citus.kind IS NOT NULL THEN
                RAISE EXCEPTION 'cannot rewrite "%" in the % table %', v_old, v_citus.kind, v_fk.child
                    USING ERRCODE = 'ID415',  -- sharded_id
                          DETAIL = CASE WHEN v_citus.distribution_column = v_fk.child_key_column
                                        THEN format('Column %s of %s holds the ID and is its distribution column: the '
                                                    'value places each row in a shard, and Citus does not change it.',
                                                    quote_ident(v_fk.child_key_column), v_fk.child)
                                        ELSE format('Column %s of %s holds the ID. Citus rewrites each table''s shards on '
                                                    'their own, so foreign keys would be checked half-way.',
                                                    quote_ident(v_fk.child_key_column), v_fk.child) END,
                          HINT = 'Negotiate in tables Citus does not manage, and give rows their permanent ID '
                                 'before they reach a distributed or reference table.';
            END IF;
        END LOOP;
    END IF;
    FOR v_fk IN SELECT * FROM idsql._referencing_fks(_replace_id.tbl, v_key.attnum) LOOP
        IF v_fk.problem IS NOT NULL THEN
            RAISE EXCEPTION 'cannot rewrite foreign key "%" on %', v_fk.constraint_name, v_fk.child
                USING ERRCODE = 'ID410',  -- unsafe_foreign_key
                      DETAIL = format('Constraint %s on %s (ON UPDATE %s): %s.',
                                      v_fk.constraint_name, v_fk.child, v_fk.on_update, v_fk.problem),
                      HINT = 'Declare the foreign key ON UPDATE CASCADE, or NO ACTION DEFERRABLE.';
        END IF;
        IF row_security_active(v_fk.child) AND v_fk.on_update NOT LIKE 'CASCADE%' THEN
            RAISE EXCEPTION 'row-level security on % may hide references to "%"', v_fk.child, v_old
                USING ERRCODE = 'ID411',  -- hidden_references
                      DETAIL = format('Constraint %s on %s is rewritten by the caller, who may not see every row.',
                                      v_fk.constraint_name, v_fk.child),
                      HINT = 'Negotiate as a role that bypasses row-level security on the table, '
                             'or declare the foreign key ON UPDATE CASCADE.';
        END IF;
    END LOOP;

    -- One UPDATE per table: SET col = CASE WHEN <references the key> THEN new ELSE col END.
    WITH ref AS (
        SELECT _replace_id.tbl AS child, v_key.column_name AS col, v_key.type_name AS col_type,
               format('c.%I = $2::%s', v_key.column_name, v_key.type_name) AS cond
        UNION ALL
        SELECT f.child, f.child_key_column, f.child_key_type, f.match_condition
          FROM idsql._referencing_fks(_replace_id.tbl, v_key.attnum) AS f
    ), per_column AS (
        SELECT r.child, r.col, r.col_type, string_agg('(' || r.cond || ')', ' OR ' ORDER BY r.cond) AS conds
          FROM ref AS r
         GROUP BY r.child, r.col, r.col_type
    ), per_table AS (
        SELECT pc.child,
               format('UPDATE %s AS c SET %s WHERE %s RETURNING 1', pc.child,
                      string_agg(format('%I = CASE WHEN %s THEN $1::%s ELSE c.%I END',
                                        pc.col, pc.conds, pc.col_type, pc.col), ', ' ORDER BY pc.col),
                      string_agg(pc.conds, ' OR ' ORDER BY pc.col)) AS stmt
          FROM per_column AS pc
         GROUP BY pc.child
    )
    SELECT array_agg(pt.child ORDER BY pt.child::text), array_agg(pt.stmt ORDER BY pt.child::text)
      INTO v_tables, v_updates
      FROM per_table AS pt;

    PERFORM set_config('idsql.negotiating', 'on', true);
    EXECUTE (SELECT 'WITH ' || string_agg(format('u%s AS (%s)', u.n, u.stmt), ', ' ORDER BY u.n)
                    || ' SELECT ARRAY[' || string_agg(format('(SELECT count(*) FROM u%s)', u.n), ', ' ORDER BY u.n)
                    || ']::bigint[]'
               FROM unnest(v_updates) WITH ORDINALITY AS u (stmt, n))
       INTO v_counts
      USING v_new, v_old;
    PERFORM set_config('idsql.negotiating', 'off', true);

    -- The sync queue: the item's own key, and whole JSON values equal to the old ID.
    v_old_values := ARRAY[to_jsonb(v_old)];
    v_new_values := ARRAY[to_jsonb(v_new)];
    IF v_key.kind = 'integer' THEN
        v_old_values := v_old_values || to_jsonb(v_old::numeric);
        v_new_values := v_new_values || to_jsonb(v_new::numeric);
    END IF;
    WITH hit AS (
        SELECT q.id,
               EXISTS (SELECT FROM unnest(v_old_values) AS o (value)
                        WHERE jsonb_path_exists(q.payload, '$.** ? (@ == $v)', jsonb_build_object('v', o.value)))
                   AS in_payload
          FROM idsql.sync_queue AS q
    ), changed AS (
        UPDATE idsql.sync_queue AS q
           SET model_id = CASE WHEN q.model_type = _replace_id.tbl AND q.model_id = v_old
                               THEN v_new ELSE q.model_id END,
               temporary_client_id = CASE WHEN q.temporary_client_id = v_old
                                          THEN v_new ELSE q.temporary_client_id END,
               payload = CASE WHEN h.in_payload
                              THEN idsql._jsonb_replace_value(
                                       CASE WHEN cardinality(v_old_values) = 2
                                            THEN idsql._jsonb_replace_value(q.payload, v_old_values[2], v_new_values[2])
                                            ELSE q.payload END,
                                       v_old_values[1], v_new_values[1])
                              ELSE q.payload END
          FROM hit AS h
         WHERE h.id = q.id
           AND (q.model_type = _replace_id.tbl AND q.model_id = v_old
                OR q.temporary_client_id = v_old
                OR h.in_payload)
        RETURNING 1
    )
    SELECT count(*) INTO v_queue FROM changed;

    SELECT jsonb_object_agg(t.tbl::text, t.n) || jsonb_build_object('idsql.sync_queue', v_queue)
      INTO v_touched
      FROM unnest(v_tables, v_counts) AS t (tbl, n);
    INSERT INTO idsql.id_change_log (tbl, old_id, new_id, touched)
    VALUES (_replace_id.tbl, v_old, v_new, '{}')
    RETURNING id INTO v_log_id;
    v_touched := jsonb_build_object('table', _replace_id.tbl::text, 'old_id', v_old, 'new_id', v_new,
                                    'log_id', v_log_id, 'touched', v_touched);
    UPDATE idsql.id_change_log AS l SET touched = v_touched WHERE l.id = v_log_id;
    INSERT INTO idsql.id_mapping (tbl, temp_id, permanent_id, log_id)
    VALUES (_replace_id.tbl, v_old, v_new, v_log_id);

    IF _replace_id.notify THEN
        v_payload := json_build_object('table', _replace_id.tbl::text, 'old_id', v_old,
                                       'new_id', v_new, 'log_id', v_log_id)::text;
        IF octet_length(v_payload) >= 8000 THEN
            -- Too long for NOTIFY: the listener reads the IDs from the log.
            v_payload := json_build_object('table', _replace_id.tbl::text, 'log_id', v_log_id)::text;
        END IF;
        PERFORM pg_notify('idsql_id_changed', v_payload);
    END IF;
    RETURN v_touched;
END
$$;

COMMENT ON FUNCTION idsql._replace_id(regclass, text, text, boolean) IS
'Internal: replace_id_everywhere(), with the notification optional (negotiate_ids sends one per batch).';

-- negotiation/functions/replace_id_everywhere.sql
CREATE OR REPLACE FUNCTION idsql.replace_id_everywhere(tbl regclass, old_id text, new_id text)
    RETURNS jsonb
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Replace a temporary ID by a permanent one in the row, in every column that
 * references it through a foreign key, and in the sync queue; record the
 * mapping, log the change and NOTIFY idsql_id_changed (on commit). All or
 * nothing: every check runs before the first write. See _replace_id.
 */
SELECT idsql._replace_id(tbl, old_id, new_id, true);
$$;

COMMENT ON FUNCTION idsql.replace_id_everywhere(regclass, text, text) IS
'Replace a temporary ID by a permanent one in the row, every foreign key and the sync queue; log it and NOTIFY idsql_id_changed.';

-- negotiation/functions/plan_replace_id.sql
CREATE OR REPLACE FUNCTION idsql.plan_replace_id(tbl regclass, old_id text)
    RETURNS TABLE (
        table_name regclass,
        constraint_name name,
        columns name[],
        rows bigint,
        strategy text,
        problem text
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Dry run of replace_id_everywhere(tbl, old_id, ...), like EXPLAIN: one row
 * for the key itself, one per referencing foreign key and one for the sync
 * queue, with the rows each would rewrite (as far as the caller can see) and
 * how. strategy is 'update key', 'rewrite' (NO ACTION, checked at the end of
 * the statement), 'cascade' (ON UPDATE CASCADE, rewritten the same way),
 * 'queue', or 'refuse' when the replacement would be refused, problem saying
 * why; for a usable key problem warns when no index leads with the
 * referencing column (each replacement then scans the table). Writes nothing.
 */
DECLARE
    v_key record;
    v_fk record;
    v_old text;
    v_count bigint;
BEGIN
    v_key := idsql._negotiation_key(plan_replace_id.tbl);
    EXECUTE format('SELECT $1::%s::text', v_key.type_name) INTO v_old USING plan_replace_id.old_id;
    EXECUTE format('SELECT count(*) FROM %s AS t WHERE t.%I = $1::%s',
                   plan_replace_id.tbl, v_key.column_name, v_key.type_name)
       INTO v_count
      USING v_old;
    table_name := plan_replace_id.tbl;
    constraint_name := (SELECT c.conname FROM pg_constraint AS c
                         WHERE c.conrelid = plan_replace_id.tbl AND c.contype = 'p');
    columns := ARRAY[v_key.column_name];
    rows := v_count;
    strategy := 'update key';
    problem := CASE
        WHEN coalesce((SELECT s.strategy FROM idsql.id_strategy AS s WHERE s.tbl = plan_replace_id.tbl), 'client')
             <> 'server' THEN 'the table uses client IDs, which never change'
        WHEN NOT idsql.is_temp_id(plan_replace_id.tbl, v_old) THEN 'not a temporary ID'
        WHEN v_count = 0 AND NOT EXISTS (SELECT FROM idsql.id_mapping AS m
                                          WHERE m.tbl = plan_replace_id.tbl AND m.temp_id = v_old)
            THEN 'no row has this ID'
    END;
    IF problem IS NOT NULL THEN
        strategy := 'refuse';
    END IF;
    RETURN NEXT;

    FOR v_fk IN SELECT * FROM idsql._referencing_fks(plan_replace_id.tbl, v_key.attnum) LOOP
        EXECUTE format('SELECT count(*) FROM %s AS c WHERE %s', v_fk.child, v_fk.match_condition)
           INTO v_count
          USING NULL::text, v_old;  -- match_condition names the old ID $2
        table_name := v_fk.child;
        constraint_name := v_fk.constraint_name;
        columns := v_fk.child_columns;
        rows := v_count;
        strategy := CASE WHEN v_fk.on_update LIKE 'CASCADE%' THEN 'cascade' ELSE 'rewrite' END;
        problem := NULL;
        IF v_fk.problem IS NOT NULL THEN
            strategy := 'refuse';
            problem := v_fk.problem;
        ELSIF row_security_active(v_fk.child) AND v_fk.on_update NOT LIKE 'CASCADE%' THEN
            strategy := 'refuse';
            problem := 'row-level security may hide referencing rows from the caller';
        ELSIF NOT v_fk.indexed THEN
            problem := format('no index leads with %I: each replacement scans %s', v_fk.child_key_column, v_fk.child);
        END IF;
        RETURN NEXT;
    END LOOP;

    table_name := 'idsql.sync_queue'::regclass;
    constraint_name := NULL;
    columns := ARRAY['model_id', 'temporary_client_id', 'payload']::name[];
    rows := (SELECT count(*) FROM idsql.sync_queue AS q
              WHERE q.model_type = plan_replace_id.tbl AND q.model_id = v_old
                 OR q.temporary_client_id = v_old
                 OR jsonb_path_exists(q.payload, '$.** ? (@ == $v)', jsonb_build_object('v', v_old))
                 OR v_key.kind = 'integer'
                    AND jsonb_path_exists(q.payload, '$.** ? (@ == $v)', jsonb_build_object('v', v_old::numeric)));
    strategy := 'queue';
    problem := NULL;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION idsql.plan_replace_id(regclass, text) IS
'Dry run of replace_id_everywhere: per table and foreign key, the rows it would rewrite, how, and any problem.';

-- negotiation/functions/_server_id_for.sql
CREATE OR REPLACE FUNCTION idsql._server_id_for(tbl regclass, temp_id text)
    RETURNS text
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the permanent ID for temp_id of tbl: the one that replaced it, if
 * any (under the temporary ID's lock, so two sessions agree), else a new one
 * from tbl's generator: prefix:XXX calls
 * generate_id('XXX'); uuidv7 calls _uuidv7(); default takes nextval() of the
 * key's identity or serial sequence, or else evaluates the column's DEFAULT
 * expression (as written by the table's owner in its DDL, never caller text).
 */
DECLARE
    v_key record;
    v_generator text;
    v_seq text;
    v_default text;
    v_id text;
    v_temp text;
BEGIN
    SELECT s.generator INTO v_generator
      FROM idsql.id_strategy AS s
     WHERE s.tbl = _server_id_for.tbl AND s.strategy = 'server';
    IF v_generator IS NULL THEN
        RAISE EXCEPTION 'table % uses client IDs', _server_id_for.tbl
            USING ERRCODE = 'ID404',  -- client_id_table
                  DETAIL = 'Under the client strategy an ID never changes.',
                  HINT = 'Call set_id_strategy(table, ''server'', generator) first if its IDs come from the server.';
    END IF;
    v_key := idsql._negotiation_key(_server_id_for.tbl);
    EXECUTE format('SELECT $1::%s::text', v_key.type_name) INTO v_temp USING _server_id_for.temp_id;
    PERFORM idsql._lock_temp_id(_server_id_for.tbl, v_temp, false);
    SELECT m.permanent_id INTO v_id
      FROM idsql.id_mapping AS m
     WHERE m.tbl = _server_id_for.tbl AND m.temp_id = v_temp;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    IF starts_with(v_generator, 'prefix:') THEN
        RETURN idsql.generate_id(substr(v_generator, 8));
    ELSIF v_generator = 'uuidv7' THEN
        RETURN idsql._uuidv7()::text;
    END IF;
    v_seq := pg_get_serial_sequence(_server_id_for.tbl::text, v_key.column_name);
    IF v_seq IS NOT NULL THEN
        RETURN nextval(v_seq::regclass)::text;
    END IF;
    SELECT pg_get_expr(d.adbin, d.adrelid) INTO v_default
      FROM pg_attrdef AS d
     WHERE d.adrelid = _server_id_for.tbl AND d.adnum = v_key.attnum;
    IF v_default IS NULL THEN
        RAISE EXCEPTION 'key %.% has no default to generate IDs from', _server_id_for.tbl, v_key.column_name
            USING ERRCODE = 'ID402',  -- invalid_strategy
                  DETAIL = 'The generator is default.',
                  HINT = 'Give the key a DEFAULT or identity, or choose another generator with set_id_strategy().';
    END IF;
    EXECUTE format('SELECT (%s)::text', v_default) INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION idsql._server_id_for(regclass, text) IS
'Internal: the permanent ID for a temporary one: its mapping, else a new ID from the table''s generator.';

-- negotiation/functions/assign_server_id.sql
CREATE OR REPLACE FUNCTION idsql.assign_server_id(tbl regclass, temp_id text)
    RETURNS text
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Allocate a permanent ID from tbl's generator and replace temp_id with it
 * everywhere; return the permanent ID. A temporary ID already replaced returns
 * its permanent ID without allocating another (the temporary ID's lock is
 * taken before the lookup, so two sessions get the same answer).
 */
SELECT idsql._replace_id(tbl, temp_id, idsql._server_id_for(tbl, temp_id), true) ->> 'new_id';
$$;

COMMENT ON FUNCTION idsql.assign_server_id(regclass, text) IS
'Allocate a permanent ID from the table''s generator, replace the temporary ID everywhere with it, and return it.';

-- negotiation/functions/negotiate_ids.sql
CREATE OR REPLACE FUNCTION idsql.negotiate_ids(batch jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Replace many temporary IDs in one transaction: batch is an array of
 * {"table": ..., "temp_id": ..., "new_id": ...}, new_id optional (allocated
 * from the table's generator when missing). "table" is a schema-qualified
 * name (this function's search_path is pg_catalog) or the table's oid as a
 * number, which the Python wrapper sends. Returns the array of
 * replace_id_everywhere() results, in batch order. Each replacement rewrites
 * every reference to its ID, so order does not matter: parent before child,
 * child before parent and cycles end in the same state; the replacements run
 * sorted by table and temporary ID, so concurrent batches lock alike. One NOTIFY for the
 * batch: {"txid", "count", "first_log_id", "last_log_id"}; the listener reads
 * the rows of that transaction from the change log. An error anywhere undoes
 * the whole batch.
 */
DECLARE
    v_item jsonb;
    v_tbl regclass;
    v_tbls regclass[] := '{}'::regclass[];
    v_temps text[] := '{}'::text[];
    v_news text[] := '{}'::text[];
    v_n bigint;
    v_new text;
    v_result jsonb;
    v_results jsonb[] := '{}'::jsonb[];
    v_log_ids bigint[] := '{}'::bigint[];
BEGIN
    IF jsonb_typeof(negotiate_ids.batch) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'the batch is not a JSON array'
            USING ERRCODE = 'ID414',  -- invalid_batch
                  DETAIL = format('Got %s.', coalesce(jsonb_typeof(negotiate_ids.batch), 'NULL')),
                  HINT = 'Pass [{"table": "public.project", "temp_id": "tmp_...", "new_id": "..."}, ...].';
    END IF;
    FOR v_item IN SELECT e.value FROM jsonb_array_elements(negotiate_ids.batch) AS e LOOP
        IF jsonb_typeof(v_item) IS DISTINCT FROM 'object'
           OR coalesce(jsonb_typeof(v_item -> 'table'), 'null') NOT IN ('string', 'number')
           OR jsonb_typeof(v_item -> 'temp_id') NOT IN ('string', 'number')
           OR coalesce(jsonb_typeof(v_item -> 'new_id'), 'null') NOT IN ('string', 'number', 'null') THEN
            RAISE EXCEPTION 'invalid batch entry'
                USING ERRCODE = 'ID414',  -- invalid_batch
                      DETAIL = format('Entry: %s.', left(v_item::text, 200)),
                      HINT = 'Each entry is {"table": "...", "temp_id": "...", "new_id": "..."}, new_id optional.';
        END IF;
        -- to_regclass, not ::regclass: a missing schema is then 42P01 like a missing table, not 3F000.
        v_tbl := CASE jsonb_typeof(v_item -> 'table')
                     WHEN 'number' THEN (v_item ->> 'table')::oid::regclass
                     ELSE to_regclass(v_item ->> 'table') END;
        IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = v_tbl) THEN
            RAISE EXCEPTION 'relation "%" does not exist', left(v_item ->> 'table', 200)
                USING ERRCODE = 'undefined_table',
                      DETAIL = format('Entry: %s.', left(v_item::text, 200)),
                      HINT = 'Name an existing table, schema-qualified, or give its OID.';
        END IF;
        v_tbls := v_tbls || v_tbl;
        v_temps := v_temps || (v_item ->> 'temp_id');
        v_news := v_news || (v_item ->> 'new_id');
    END LOOP;
    -- Replace in (table, temporary ID) order, so that two batches sharing IDs lock them in the
    -- same order instead of deadlocking; results come back in batch order.
    FOR v_n IN SELECT u.n FROM unnest(v_tbls, v_temps) WITH ORDINALITY AS u (tbl, temp_id, n)
                ORDER BY u.tbl::oid, u.temp_id, u.n LOOP
        v_new := v_news[v_n];
        IF v_new IS NULL THEN
            v_new := idsql._server_id_for(v_tbls[v_n], v_temps[v_n]);
        END IF;
        v_result := idsql._replace_id(v_tbls[v_n], v_temps[v_n], v_new, false);
        v_results[v_n] := v_result;
        v_log_ids := v_log_ids || (v_result ->> 'log_id')::bigint;
    END LOOP;
    IF cardinality(v_log_ids) > 0 THEN
        PERFORM pg_notify('idsql_id_changed',
                          json_build_object('txid', pg_current_xact_id()::text,
                                            'count', cardinality(v_log_ids),
                                            'first_log_id', (SELECT min(x) FROM unnest(v_log_ids) AS x),
                                            'last_log_id', (SELECT max(x) FROM unnest(v_log_ids) AS x))::text);
    END IF;
    RETURN coalesce(to_jsonb(v_results), '[]'::jsonb);
END
$$;

COMMENT ON FUNCTION idsql.negotiate_ids(jsonb) IS
'Replace many temporary IDs (with given or generated permanent IDs) in one transaction, with one NOTIFY for the batch.';

-- negotiation/functions/enqueue_sync.sql
CREATE OR REPLACE FUNCTION idsql.enqueue_sync(
    model_type regclass,
    model_id text,
    operation text,
    payload jsonb DEFAULT '{}',
    temporary_client_id text DEFAULT NULL
)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Queue a change of one row for the remote API and return the item's id. A
 * create of a row whose ID is temporary records it as temporary_client_id
 * unless one is given, so the item is found and rewritten when the ID is
 * replaced.
 */
DECLARE
    v_id bigint;
BEGIN
    IF enqueue_sync.operation IS NULL OR enqueue_sync.operation NOT IN ('create', 'update', 'delete') THEN
        RAISE EXCEPTION 'invalid sync operation "%"', left(coalesce(enqueue_sync.operation, 'NULL'), 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The operation is create, update or delete.',
                  HINT = 'Use create, update or delete.';
    END IF;
    INSERT INTO idsql.sync_queue (model_type, model_id, operation, payload, temporary_client_id)
    VALUES (enqueue_sync.model_type, enqueue_sync.model_id, enqueue_sync.operation,
            coalesce(enqueue_sync.payload, '{}'),
            coalesce(enqueue_sync.temporary_client_id,
                     CASE WHEN enqueue_sync.operation = 'create'
                               AND idsql.is_temp_id(enqueue_sync.model_type, enqueue_sync.model_id)
                          THEN enqueue_sync.model_id END))
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;

COMMENT ON FUNCTION idsql.enqueue_sync(regclass, text, text, jsonb, text) IS
'Queue a create, update or delete of one row for the remote API; return the queue item''s id.';

-- negotiation/functions/claim_sync_batch.sql
CREATE OR REPLACE FUNCTION idsql.claim_sync_batch(n integer, max_attempts integer DEFAULT 5)
    RETURNS SETOF idsql.sync_queue
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Claim up to n queue items, oldest first: pending ones and failed ones with
 * fewer than max_attempts attempts. FOR UPDATE SKIP LOCKED lets several
 * workers claim at once without waiting for or taking each other's items.
 * Claimed items are in_progress, attempts + 1, until complete_sync() or
 * fail_sync(); a worker that dies leaves them in_progress once its claim
 * commits, so claim in the transaction that does the work, or release them.
 */
WITH picked AS (
    SELECT q.id
      FROM idsql.sync_queue AS q
     WHERE q.id_negotiation_status = 'pending'
        OR q.id_negotiation_status = 'failed' AND q.attempts < claim_sync_batch.max_attempts
     ORDER BY q.id
     LIMIT greatest(claim_sync_batch.n, 0)
       FOR UPDATE SKIP LOCKED
)
UPDATE idsql.sync_queue AS q
   SET id_negotiation_status = 'in_progress',
       attempts = q.attempts + 1,
       claimed_at = now()
  FROM picked AS p
 WHERE q.id = p.id
RETURNING q.*;
$$;

COMMENT ON FUNCTION idsql.claim_sync_batch(integer, integer) IS
'Claim up to n pending (or retryable failed) sync items, oldest first, with FOR UPDATE SKIP LOCKED; mark them in_progress.';

-- negotiation/functions/_set_sync_status.sql
CREATE OR REPLACE FUNCTION idsql._set_sync_status(id bigint, status text, last_error text)
    RETURNS idsql.sync_queue
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Move one queue item to status (the transition trigger refuses illegal
 * moves) and return it; last_error is kept unless a new one is given.
 */
DECLARE
    v_item idsql.sync_queue;
BEGIN
    UPDATE idsql.sync_queue AS q
       SET id_negotiation_status = _set_sync_status.status,
           last_error = coalesce(_set_sync_status.last_error, q.last_error)
     WHERE q.id = _set_sync_status.id
    RETURNING q.* INTO v_item;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no sync item %', _set_sync_status.id
            USING ERRCODE = 'ID413',  -- sync_item_not_found
                  DETAIL = 'idsql.sync_queue has no row with this id.',
                  HINT = 'Use an id that enqueue_sync() or claim_sync_batch() returned.';
    END IF;
    RETURN v_item;
END
$$;

COMMENT ON FUNCTION idsql._set_sync_status(bigint, text, text) IS
'Internal: move one sync item to a status (checked by the transition trigger) and return it.';

-- negotiation/functions/complete_sync.sql
CREATE OR REPLACE FUNCTION idsql.complete_sync(id bigint, server_id text DEFAULT NULL)
    RETURNS idsql.sync_queue
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Mark a claimed item complete and return it. With server_id (the ID the
 * remote API gave a created row), first replace the item's temporary ID with
 * it everywhere, in the same transaction: the row, its references, the queue
 * and the mapping move together, or not at all.
 */
DECLARE
    v_item idsql.sync_queue;
BEGIN
    IF complete_sync.server_id IS NOT NULL THEN
        SELECT q.* INTO v_item FROM idsql.sync_queue AS q WHERE q.id = complete_sync.id;
        IF FOUND AND v_item.temporary_client_id IS NOT NULL THEN
            PERFORM idsql.replace_id_everywhere(v_item.model_type, v_item.temporary_client_id,
                                                complete_sync.server_id);
        END IF;
    END IF;
    RETURN idsql._set_sync_status(complete_sync.id, 'complete', NULL);
END
$$;

COMMENT ON FUNCTION idsql.complete_sync(bigint, text) IS
'Mark a claimed sync item complete; with server_id, first replace its temporary ID with it everywhere.';

-- negotiation/functions/fail_sync.sql
CREATE OR REPLACE FUNCTION idsql.fail_sync(id bigint, error text, conflict boolean DEFAULT false)
    RETURNS idsql.sync_queue
    LANGUAGE sql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Record a failed attempt of a claimed item and return it: status failed
 * (claimed again by claim_sync_batch until max_attempts), or conflict when
 * the remote API refused the change itself (left for a person or a resolver
 * to move back to pending).
 */
SELECT idsql._set_sync_status(id, CASE WHEN conflict THEN 'conflict' ELSE 'failed' END,
                              coalesce(error, 'unknown error'));
$$;

COMMENT ON FUNCTION idsql.fail_sync(bigint, text, boolean) IS
'Record a failed attempt of a claimed sync item (failed, retried later; or conflict) with its error.';

-- negotiation/functions/tg_negotiation_resolve.sql
CREATE OR REPLACE FUNCTION idsql.tg_negotiation_resolve()
    RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * BEFORE INSERT OR UPDATE on a referencing table (enable_late_reference_resolution):
 * a foreign-key column that still carries a temporary ID of a server-strategy
 * table, already replaced, is rewritten to the permanent ID (TG_ARGV[0] =
 * 'resolve'), or the row is refused with a foreign-key error whose DETAIL
 * names the mapping ('reject'). The shared lock of the temporary ID makes a
 * row written while its parent is being negotiated wait for that transaction
 * and then see its mapping, instead of failing its foreign-key check.
 */
DECLARE
    v_ref record;
    v_value text;
    v_permanent text;
BEGIN
    FOR v_ref IN
        SELECT c.conname, c.confrelid::regclass AS parent, ca.attname AS col
          FROM pg_constraint AS c
          JOIN idsql.id_strategy AS s ON s.tbl = c.confrelid AND s.strategy = 'server'
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k (child_att, parent_att)
          JOIN pg_attribute AS ca ON ca.attrelid = c.conrelid AND ca.attnum = k.child_att
         WHERE c.contype = 'f' AND c.conrelid = TG_RELID
           AND k.parent_att = (idsql._negotiation_key(c.confrelid)).attnum
         ORDER BY c.conname
    LOOP
        v_value := to_jsonb(NEW) ->> v_ref.col;
        CONTINUE WHEN v_value IS NULL OR NOT idsql.is_temp_id(v_ref.parent, v_value);
        PERFORM idsql._lock_temp_id(v_ref.parent, v_value, true);
        SELECT m.permanent_id INTO v_permanent
          FROM idsql.id_mapping AS m
         WHERE m.tbl = v_ref.parent AND m.temp_id = v_value;
        CONTINUE WHEN v_permanent IS NULL;
        IF TG_ARGV[0] = 'reject' THEN
            RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                            TG_TABLE_NAME, v_ref.conname
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key (%s)=(%s) was replaced by (%s) in table %s (idsql.id_mapping).',
                                      v_ref.col, v_value, v_permanent, v_ref.parent),
                      HINT = 'Use the permanent ID (resolve_id), or enable late-reference resolution in resolve mode.';
        END IF;
        NEW := jsonb_populate_record(NEW, jsonb_build_object(v_ref.col, v_permanent));
    END LOOP;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION idsql.tg_negotiation_resolve() IS
'Trigger function: rewrite (or refuse, naming the mapping) a foreign key that still carries a replaced temporary ID.';

-- negotiation/functions/enable_late_reference_resolution.sql
CREATE OR REPLACE FUNCTION idsql.enable_late_reference_resolution(tbl regclass, mode text DEFAULT 'resolve')
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Put the trigger idsql_negotiation_resolve on a referencing table, or change
 * its mode (idempotent): resolve rewrites a replaced temporary ID in a
 * foreign-key column to its permanent ID, so an offline child that arrives
 * after its parent was negotiated is stored right; reject refuses the row
 * with a foreign-key error whose DETAIL names the mapping. Without the
 * trigger, PostgreSQL's own foreign-key error stands.
 */
BEGIN
    IF enable_late_reference_resolution.tbl IS NULL THEN
        RAISE EXCEPTION 'tbl is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the referencing table, for example enable_late_reference_resolution(''task'').';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = enable_late_reference_resolution.tbl) THEN
        -- An OID cast to regclass ('0', '-', '12345') is not checked: format() would splice it as is.
        RAISE EXCEPTION 'relation with OID % does not exist', enable_late_reference_resolution.tbl::oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the name of an existing table.';
    END IF;
    IF enable_late_reference_resolution.mode IS NULL
       OR enable_late_reference_resolution.mode NOT IN ('resolve', 'reject') THEN
        RAISE EXCEPTION 'invalid late-reference mode "%"',
                        left(coalesce(enable_late_reference_resolution.mode, 'NULL'), 40)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The mode is resolve or reject.',
                  HINT = 'Use resolve (rewrite to the permanent ID) or reject (refuse, naming the mapping).';
    END IF;
    EXECUTE format('CREATE OR REPLACE TRIGGER idsql_negotiation_resolve BEFORE INSERT OR UPDATE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION idsql.tg_negotiation_resolve(%L)',
                   enable_late_reference_resolution.tbl, enable_late_reference_resolution.mode);
END
$$;

COMMENT ON FUNCTION idsql.enable_late_reference_resolution(regclass, text) IS
'Add the trigger idsql_negotiation_resolve: replaced temporary IDs in foreign keys are resolved (or refused, naming the mapping).';

-- negotiation/functions/disable_late_reference_resolution.sql
CREATE OR REPLACE FUNCTION idsql.disable_late_reference_resolution(tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Remove the trigger idsql_negotiation_resolve from a table (idempotent).
 */
BEGIN
    IF disable_late_reference_resolution.tbl IS NULL THEN
        RAISE EXCEPTION 'tbl is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the referencing table, for example disable_late_reference_resolution(''task'').';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_class AS c WHERE c.oid = disable_late_reference_resolution.tbl) THEN
        -- An OID cast to regclass ('0', '-', '12345') is not checked: format() would splice it as is.
        RAISE EXCEPTION 'relation with OID % does not exist', disable_late_reference_resolution.tbl::oid
            USING ERRCODE = 'undefined_table',
                  HINT = 'Pass the name of an existing table.';
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS idsql_negotiation_resolve ON %s', disable_late_reference_resolution.tbl);
END
$$;

COMMENT ON FUNCTION idsql.disable_late_reference_resolution(regclass) IS
'Remove the trigger idsql_negotiation_resolve from a table.';

-- state_versions/tables/state_version_table.sql
CREATE TABLE IF NOT EXISTS idsql.state_version_table (
    tbl regclass PRIMARY KEY,
    version_column name,
    parent regclass,
    parent_fk name,
    fk_columns name[] NOT NULL DEFAULT '{}',
    parent_columns name[] NOT NULL DEFAULT '{}',
    key_columns name[] NOT NULL,
    created_column name,
    updated_column name,
    history boolean NOT NULL DEFAULT false,
    enabled boolean NOT NULL DEFAULT true,
    row_function name,
    enabled_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT state_version_table_parent_check CHECK ((parent IS NULL) = (parent_fk IS NULL)),
    CONSTRAINT state_version_table_versioned_check CHECK (version_column IS NOT NULL OR parent IS NOT NULL)
);

COMMENT ON TABLE idsql.state_version_table IS
'One row per table enabled with enable_state_version(): its version column, parent and history setting.';
COMMENT ON COLUMN idsql.state_version_table.tbl IS 'The tracked table.';
COMMENT ON COLUMN idsql.state_version_table.version_column IS
'Its own version column (bigint, starts at 1); NULL when its changes only count for its parent.';
COMMENT ON COLUMN idsql.state_version_table.parent IS 'The tracked table its changes count for, or NULL for a root.';
COMMENT ON COLUMN idsql.state_version_table.parent_fk IS 'The foreign key constraint that points at the parent.';
COMMENT ON COLUMN idsql.state_version_table.fk_columns IS 'Columns of the foreign key, in this table.';
COMMENT ON COLUMN idsql.state_version_table.parent_columns IS 'Columns of the parent the foreign key references, same order.';
COMMENT ON COLUMN idsql.state_version_table.key_columns IS 'Primary key columns: the key of a row in its history.';
COMMENT ON COLUMN idsql.state_version_table.created_column IS 'created_at when the table has it: set on INSERT, kept on UPDATE.';
COMMENT ON COLUMN idsql.state_version_table.updated_column IS 'updated_at when the table has it: set on every counted change.';
COMMENT ON COLUMN idsql.state_version_table.history IS 'Whether every committed version of each row is kept in idsql.row_version.';
COMMENT ON COLUMN idsql.state_version_table.enabled IS 'False after disable_state_version(): triggers removed, history kept.';
COMMENT ON COLUMN idsql.state_version_table.row_function IS
'The per-table row trigger function enable_state_version() generated in idsql, if any.';
COMMENT ON COLUMN idsql.state_version_table.enabled_at IS 'When enable_state_version() last ran for the table.';

-- state_versions/tables/row_version.sql
CREATE TABLE IF NOT EXISTS idsql.row_version (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl regclass NOT NULL,
    key jsonb NOT NULL,
    state_version bigint,
    parent_key jsonb,
    parent_version bigint,
    root regclass NOT NULL,
    root_key jsonb NOT NULL,
    root_version bigint,
    operation text NOT NULL,
    row_data jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    key_hash bigint NOT NULL,
    parent_hash bigint,
    root_hash bigint NOT NULL
);

-- The hashes are written by the triggers' INSERT (idsql._state_version_history), and operation is
-- only ever one of the values its comment lists: generated columns and a CHECK constraint are
-- compiled again for every statement that writes the table, which cost a one-row UPDATE of a
-- table with history more than the history row itself. An install from before keeps its rows
-- and loses the generation expressions and the constraint here.
ALTER TABLE idsql.row_version ALTER COLUMN key_hash DROP EXPRESSION IF EXISTS;
ALTER TABLE idsql.row_version ALTER COLUMN parent_hash DROP EXPRESSION IF EXISTS;
ALTER TABLE idsql.row_version ALTER COLUMN root_hash DROP EXPRESSION IF EXISTS;
ALTER TABLE idsql.row_version ALTER COLUMN key_hash SET NOT NULL;
ALTER TABLE idsql.row_version ALTER COLUMN root_hash SET NOT NULL;
ALTER TABLE idsql.row_version DROP CONSTRAINT IF EXISTS row_version_operation_check;
-- Ids follow the order of writing across sessions, which for one row is the order of its versions
-- (its writers queue on its row lock): no cache, which 0.1.0 had (1000 ids per session, handed out
-- out of order between sessions). A cached id cost about 0.1 us less per history row.
ALTER TABLE idsql.row_version ALTER COLUMN id SET CACHE 1;

-- The indexes hold 64-bit hashes of the jsonb keys, not the keys: a btree on jsonb costs
-- every writer (each changed row of a bulk UPDATE) several jsonb comparisons per entry.
-- Readers match the hash through the index and then the key itself.
CREATE INDEX IF NOT EXISTS row_version_parent_idx ON idsql.row_version (tbl, parent_hash, key_hash, parent_version, id)
WHERE parent_key IS NOT NULL;
-- Everything under a root, by table and version: what changes_between and rollback_to_version
-- read, and also how row_history finds the rows of a root table itself (their key is the root's).
CREATE INDEX IF NOT EXISTS row_version_root_tbl_idx ON idsql.row_version (root_hash, tbl, root_version);
-- The rows of tables with a parent, by key and version, for row_history and for the state of a
-- row at a version in changes_between. A root's rows are left out: the index above already finds
-- them, and one index entry less per row makes their history about a sixth cheaper to write
-- (measured on a 100,000-row UPDATE). The predicate names root and tbl, which
-- children_as_of never mentions, so that the planner cannot take this index for the parent index
-- there (it did, estimating one entry per key from the roots' statistics, and became 6x slower).
CREATE INDEX IF NOT EXISTS row_version_child_key_idx ON idsql.row_version (key_hash, root_version, id)
WHERE root <> tbl;
-- Before 0.2.0 the two indexes above were one on (root_hash, root_version) and one on every key.
DROP INDEX IF EXISTS idsql.row_version_root_idx;
DROP INDEX IF EXISTS idsql.row_version_key_idx;

COMMENT ON TABLE idsql.row_version IS
'History of the tables enabled with history => true: one row per changed row per statement, written by triggers.';
COMMENT ON COLUMN idsql.row_version.id IS
'Order of writing: the last entry of a row is its latest state (ids below history_order.cached_below only within a session).';
COMMENT ON COLUMN idsql.row_version.tbl IS 'The table of the row.';
COMMENT ON COLUMN idsql.row_version.key IS 'Primary key of the row, e.g. {"entity_id": "A"}.';
COMMENT ON COLUMN idsql.row_version.state_version IS 'The row''s own version after the change (NULL for a table without one).';
COMMENT ON COLUMN idsql.row_version.parent_key IS 'Key of the parent row the change counted for (NULL for a root).';
COMMENT ON COLUMN idsql.row_version.parent_version IS 'Version of that parent once the change counted for it.';
COMMENT ON COLUMN idsql.row_version.root IS 'The root table above the row (the row''s own table for a root).';
COMMENT ON COLUMN idsql.row_version.root_key IS 'Key of the root row above the row.';
COMMENT ON COLUMN idsql.row_version.root_version IS 'Version of the root row once the change counted for it.';
COMMENT ON COLUMN idsql.row_version.operation IS
'INSERT, UPDATE, DELETE; MOVE: the row left this parent for another; BASELINE: the row as history was enabled.';
COMMENT ON COLUMN idsql.row_version.row_data IS 'The whole row after the change (before it, for DELETE and MOVE).';
COMMENT ON COLUMN idsql.row_version.changed_at IS 'Start of the transaction that made the change.';
COMMENT ON COLUMN idsql.row_version.xid IS 'The transaction that made the change.';
COMMENT ON COLUMN idsql.row_version.key_hash IS 'jsonb_hash_extended(key, 0), for the indexes; written with the row.';
COMMENT ON COLUMN idsql.row_version.parent_hash IS
'jsonb_hash_extended(parent_key, 0), for the indexes; written with the row.';
COMMENT ON COLUMN idsql.row_version.root_hash IS 'jsonb_hash_extended(root_key, 0), for the indexes; written with the row.';

-- state_versions/tables/history_order.sql
-- Kept apart from idsql.installation, which each install script writes itself and a dump leaves
-- out: this row exists only in a database upgraded from 0.1.0, and must survive a dump and restore
-- of the extension (the epilogue registers every table but installation for pg_dump).
CREATE TABLE IF NOT EXISTS idsql.history_order (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT history_order_singleton_check CHECK (singleton),
    cached_below bigint NOT NULL
);

COMMENT ON TABLE idsql.history_order IS
'One row in a database upgraded from 0.1.0, none otherwise: where the ids of idsql.row_version start to follow the order of writing.';
COMMENT ON COLUMN idsql.history_order.singleton IS 'Always true: keeps the table to one row.';
COMMENT ON COLUMN idsql.history_order.cached_below IS
'Ids of idsql.row_version below this were cached per session by 0.1.0, so out of the order of writing between sessions (see row_history).';

-- state_versions/tables/state_version_noop.sql
-- A no-op UPDATE of a row under state versions is written unchanged, so that the statement
-- reports it (UPDATE n, RETURNING) as PostgreSQL does without triggers. The row then carries the
-- current transaction's xmin, which is how the row trigger tells a row this transaction already
-- counted: a row written unchanged and not counted yet is marked here until the transaction ends,
-- and the row trigger takes the mark back when it counts the row after all. Unlogged and left out
-- of dumps: a mark means nothing outside its transaction, and one restored into another cluster
-- would carry an xid of that cluster. Rows of finished transactions are garbage, collected by
-- _state_version_noop.
CREATE UNLOGGED TABLE IF NOT EXISTS idsql.state_version_noop (
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    tbl oid NOT NULL,
    key jsonb NOT NULL,
    PRIMARY KEY (xid, tbl, key)
);

COMMENT ON TABLE idsql.state_version_noop IS
'Rows of tables under state versions written unchanged by a no-op UPDATE, not counted yet in their (running) transaction.';
COMMENT ON COLUMN idsql.state_version_noop.xid IS 'The top-level transaction that wrote the row unchanged.';
COMMENT ON COLUMN idsql.state_version_noop.tbl IS 'OID of the tracked table.';
COMMENT ON COLUMN idsql.state_version_noop.key IS 'Primary key of the row, as jsonb.';

-- state_versions/functions/_own_xid.sql
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

-- state_versions/functions/_raise_stale_version.sql
CREATE OR REPLACE FUNCTION idsql._raise_stale_version(
    p_tbl regclass, p_column name, p_current bigint, p_given bigint
)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Raise the optimistic-lock error of the row trigger: the UPDATE set the
 * version column to something else than the row's version, so the writer
 * read the row before another transaction changed it. Its own code, not
 * 40001: a generic retry loop would repeat the stale write blindly.
 */
BEGIN
    RAISE EXCEPTION 'stale % in update of %', p_column, p_tbl
        USING ERRCODE = 'ID301',  -- stale_version
              DETAIL = format('The row is at %s %s; the update set it to %s.',
                              p_column, p_current, coalesce(p_given::text, 'NULL')),
              HINT = format('Read the row again and redo the change, or leave %s out of the UPDATE.', p_column);
END
$$;

COMMENT ON FUNCTION idsql._raise_stale_version(regclass, name, bigint, bigint) IS
'Internal: raise ID301 stale_version for an UPDATE that set the version column to another value.';

-- state_versions/functions/_state_version_config.sql
CREATE OR REPLACE FUNCTION idsql._state_version_config(p_tbl regclass, p_need_history boolean DEFAULT false)
    RETURNS idsql.state_version_table
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the configuration row of a tracked table, or raise ID302 when the
 * table was never enabled, and ID303 when history is needed but not kept.
 */
DECLARE
    v_cfg idsql.state_version_table;
BEGIN
    IF p_tbl IS NULL THEN
        RAISE EXCEPTION 'table is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a table name, for example ''entity''::regclass.';
    END IF;
    SELECT c.* INTO v_cfg FROM idsql.state_version_table AS c WHERE c.tbl = p_tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % is not tracked by state versions', p_tbl
            USING ERRCODE = 'ID302',  -- not_tracked
                  DETAIL = 'idsql.state_version_table has no row for it.',
                  HINT = format('Run SELECT idsql.enable_state_version(%L) first.', p_tbl::text);
    END IF;
    IF p_need_history AND NOT v_cfg.history THEN
        RAISE EXCEPTION 'table % keeps no history', p_tbl
            USING ERRCODE = 'ID303',  -- history_not_kept
                  DETAIL = 'It was enabled with history => false.',
                  HINT = format('Run SELECT idsql.enable_state_version(%L, ..., history => true); history starts then.',
                                p_tbl::text);
    END IF;
    RETURN v_cfg;
END
$$;

COMMENT ON FUNCTION idsql._state_version_config(regclass, boolean) IS
'Internal: the configuration of a tracked table; raises ID302 if it is not tracked, ID303 if history is needed and off.';

-- state_versions/functions/_state_version_bookkeeping.sql
CREATE OR REPLACE FUNCTION idsql._state_version_bookkeeping(p_cfg idsql.state_version_table)
    RETURNS text[]
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    -- The bookkeeping columns a tracked table has, in this order: its version column, created_at,
    -- updated_at. A change to them alone is no change (the row trigger, changes_between), and a
    -- rollback leaves them to the triggers.
    SELECT array_remove(ARRAY[(p_cfg).version_column, (p_cfg).created_column, (p_cfg).updated_column], NULL)::text[];
END;

COMMENT ON FUNCTION idsql._state_version_bookkeeping(idsql.state_version_table) IS
'Internal: the bookkeeping columns of a tracked table (version, created_at, updated_at), those it has.';

-- state_versions/functions/_state_version_json.sql
CREATE OR REPLACE FUNCTION idsql._state_version_json(p_names name[], p_columns name[], p_alias text)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    -- SQL text of jsonb_build_object('name1', alias.column1, ...): a key as JSON.
    SELECT 'pg_catalog.jsonb_build_object('
           || string_agg(format('%L, %I.%I', n.name, p_alias, c.col), ', ' ORDER BY n.ord)
           || ')'
      FROM unnest(p_names) WITH ORDINALITY AS n (name, ord)
     INNER JOIN unnest(p_columns) WITH ORDINALITY AS c (col, ord) ON n.ord = c.ord;
END;

COMMENT ON FUNCTION idsql._state_version_json(name[], name[], text) IS
'Internal: SQL text that builds a row key as jsonb from columns of a table alias; identifiers quoted.';

-- state_versions/functions/_state_version_columns.sql
CREATE OR REPLACE FUNCTION idsql._state_version_columns(p_columns name[], p_alias text)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    -- SQL text of "alias.col1, alias.col2": a column list, identifiers quoted.
    SELECT string_agg(format('%I.%I', p_alias, c.col), ', ' ORDER BY c.ord)
      FROM unnest(p_columns) WITH ORDINALITY AS c (col, ord);
END;

COMMENT ON FUNCTION idsql._state_version_columns(name[], text) IS
'Internal: SQL text of a quoted column list qualified by a table alias.';

-- state_versions/functions/_state_version_root.sql
CREATE OR REPLACE FUNCTION idsql._state_version_root(p_tbl regclass, p_key jsonb)
    RETURNS TABLE (version bigint, root regclass, root_key jsonb, root_version bigint)
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * For one row of a versioned table: its version, and the root row above it
 * (table, key, version), walking up the parent chain one row per level. The
 * statement trigger calls it once per distinct parent, after counting the
 * change for it, so the versions are the ones this transaction will commit.
 * NULLs when the row is gone (a parent deleted in the same statement).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_match text;
BEGIN
    root := p_tbl;
    root_key := p_key;
    LOOP
        v_match := format('(%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, $1) AS r)',
                          idsql._state_version_columns(v_cfg.key_columns, 't'),
                          idsql._state_version_columns(v_cfg.key_columns, 'r'), root);
        IF v_cfg.parent IS NULL THEN
            EXECUTE format('SELECT t.%I FROM %s AS t WHERE %s', v_cfg.version_column, root, v_match)
               INTO root_version USING root_key;
            IF root = p_tbl THEN
                version := root_version;
            END IF;
            RETURN NEXT;
            RETURN;
        END IF;
        IF root = p_tbl THEN
            EXECUTE format('SELECT t.%I FROM %s AS t WHERE %s', v_cfg.version_column, root, v_match)
               INTO version USING root_key;
        END IF;
        EXECUTE format('SELECT %s FROM %s AS t WHERE %s',
                       idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 't'), root, v_match)
           INTO root_key USING root_key;
        root := v_cfg.parent;
        v_cfg := idsql._state_version_config(root);
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_root(regclass, jsonb) IS
'Internal: a row''s version and the root row above it (table, key, version), walking up the parent chain.';

-- state_versions/functions/_state_version_root_table.sql
CREATE OR REPLACE FUNCTION idsql._state_version_root_table(p_tbl regclass)
    RETURNS regclass
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Return the root table above a tracked table (itself for a root).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
BEGIN
    WHILE v_cfg.parent IS NOT NULL LOOP
        v_cfg := idsql._state_version_config(v_cfg.parent);
    END LOOP;
    RETURN v_cfg.tbl;
END
$$;

COMMENT ON FUNCTION idsql._state_version_root_table(regclass) IS
'Internal: the root table above a tracked table, itself for a root.';

-- state_versions/functions/_state_version_parent_map.sql
CREATE OR REPLACE FUNCTION idsql._state_version_parent_map(p_parent regclass, p_keys jsonb[])
    RETURNS jsonb
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Map each parent key (as jsonb text) to {"v": parent version, "rk": root
 * key, "rv": root version}: what the history rows of its children record.
 * One walk up the chain per distinct parent, not per child row.
 *
 * A parent that is gone (children deleted by ON DELETE CASCADE run after their
 * parent's row is deleted) has no chain to walk. Its root row is then the one
 * its last history entry was under (last by its version: ids follow each
 * other only within one session), or else the one the last entry of one of
 * its children was under (last by the parent's version). That root row counts
 * the change here, as it will once the parent's own trigger runs (once per
 * transaction), so that the children's DELETE entries carry the version that
 * removed them. "v" stays null: the parent has no version left to count in.
 */
DECLARE
    v_map jsonb := '{}'::jsonb;
    v_key jsonb;
    v_info record;
    v_root regclass;
    v_rk jsonb;
BEGIN
    FOREACH v_key IN ARRAY coalesce(p_keys, '{}'::jsonb[]) LOOP
        SELECT * INTO v_info FROM idsql._state_version_root(p_parent, v_key);
        v_rk := v_info.root_key;
        IF v_info.version IS NULL AND v_rk IS NULL THEN
            v_root := idsql._state_version_root_table(p_parent);
            SELECT h.root_key INTO v_rk
              FROM idsql.row_version AS h
             WHERE h.key_hash = jsonb_hash_extended(v_key, 0) AND h.root <> h.tbl
               AND h.tbl = p_parent AND h.key = v_key AND jsonb_typeof(h.root_key) = 'object'
             ORDER BY h.state_version DESC, h.id DESC
             LIMIT 1;
            IF v_rk IS NULL THEN
                SELECT h.root_key INTO v_rk
                  FROM idsql.state_version_table AS c
                  JOIN idsql.row_version AS h
                    ON h.tbl = c.tbl AND h.parent_hash = jsonb_hash_extended(v_key, 0) AND h.parent_key = v_key
                 WHERE c.parent = p_parent AND jsonb_typeof(h.root_key) = 'object'
                 ORDER BY h.parent_version DESC NULLS LAST, h.id DESC
                 LIMIT 1;
            END IF;
            IF v_rk IS NOT NULL THEN
                PERFORM idsql._state_version_touch(v_root, ARRAY[v_rk]);
                SELECT r.root_version INTO v_info.root_version FROM idsql._state_version_root(v_root, v_rk) AS r;
            END IF;
        END IF;
        v_map := v_map || jsonb_build_object(v_key::text, jsonb_build_object(
            'v', v_info.version, 'rk', v_rk, 'rv', v_info.root_version));
    END LOOP;
    RETURN v_map;
END
$$;

COMMENT ON FUNCTION idsql._state_version_parent_map(regclass, jsonb[]) IS
'Internal: for each parent key, the parent''s version and its root''s key and version, as one jsonb map.';

-- state_versions/functions/_state_version_noop.sql
CREATE OR REPLACE FUNCTION idsql._state_version_noop(p_tbl oid, p_key jsonb)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Called by the row triggers of tracked tables for a no-op UPDATE of a row,
 * which they let PostgreSQL write unchanged (so that it counts in the
 * statement's row count and RETURNING). Sets idsql.state_version_noop for the
 * transaction: the statement triggers then leave unchanged rows out of parents
 * and history. With p_key (a row with a version column, not counted yet in
 * this transaction) it marks the row in idsql.state_version_noop, so that a
 * later change in the transaction still counts (_state_version_unmark).
 * The first call of a transaction also removes up to 1,000 marks of finished
 * transactions, skipping any another session is removing.
 * SECURITY DEFINER: writers need no privilege on the table of marks, and a
 * caller can only mark rows in its own transaction.
 */
BEGIN
    IF current_setting('idsql.state_version_noop', true) IS DISTINCT FROM 'on' THEN
        DELETE FROM idsql.state_version_noop AS m
         WHERE m.ctid = ANY (ARRAY(SELECT g.ctid FROM idsql.state_version_noop AS g
                                    WHERE g.xid < pg_snapshot_xmin(pg_current_snapshot())
                                    LIMIT 1000 FOR UPDATE SKIP LOCKED));
        PERFORM set_config('idsql.state_version_noop', 'on', true);
    END IF;
    IF p_key IS NOT NULL THEN
        INSERT INTO idsql.state_version_noop (tbl, key) VALUES (p_tbl, p_key) ON CONFLICT DO NOTHING;
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._state_version_noop(oid, jsonb) IS
'Internal: a no-op UPDATE of a tracked row is written unchanged; flag the transaction and mark the row as not counted.';

-- state_versions/functions/_state_version_unmark.sql
CREATE OR REPLACE FUNCTION idsql._state_version_unmark(p_tbl oid, p_key jsonb)
    RETURNS boolean
    LANGUAGE plpgsql
    VOLATILE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Called by the row trigger of a table with a version column for a row this
 * transaction already wrote, once a no-op UPDATE happened in the transaction:
 * whether the row was only written unchanged (marked by _state_version_noop),
 * so not counted yet. The mark goes: the row counts now, once.
 */
BEGIN
    DELETE FROM idsql.state_version_noop AS m
     WHERE m.xid = pg_current_xact_id() AND m.tbl = p_tbl AND m.key = p_key;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION idsql._state_version_unmark(oid, jsonb) IS
'Internal: whether a row this transaction wrote was only written unchanged by a no-op UPDATE; takes its mark back.';

-- state_versions/functions/_state_version_skip.sql
CREATE OR REPLACE FUNCTION idsql._state_version_skip()
    RETURNS trigger
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Row trigger of a tracked table without a version column or timestamps, with
 * a parent or history, called only WHEN the new row image equals the old one
 * (NEW *= OLD, which compares values, not how they are stored; PostgreSQL's
 * suppress_redundant_updates_trigger compares stored bytes, so it let through
 * a large value set to the value it already had). The row is written
 * unchanged, so that the statement reports it (UPDATE n, RETURNING), and the
 * transaction is flagged: its statement triggers leave unchanged rows out of
 * the parents' counts and the history.
 */
BEGIN
    PERFORM idsql._state_version_noop(TG_RELID, NULL);
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION idsql._state_version_skip() IS
'Internal: row trigger that flags a no-op UPDATE of a tracked table without a version column or timestamps.';

-- state_versions/functions/_state_version_drop_triggers.sql
CREATE OR REPLACE FUNCTION idsql._state_version_drop_triggers(p_tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Drop the idsql_state_version_* triggers of a table, and nothing else.
 */
DECLARE
    v_name name;
BEGIN
    FOR v_name IN
        SELECT t.tgname FROM pg_trigger AS t
         WHERE t.tgrelid = p_tbl AND t.tgname LIKE 'idsql\_state\_version\_%' AND NOT t.tgisinternal
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_name, p_tbl);
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_drop_triggers(regclass) IS
'Internal: drop the idsql_state_version_* triggers of a table.';

-- state_versions/functions/_state_version_touch.sql
CREATE OR REPLACE FUNCTION idsql._state_version_touch(p_tbl regclass, p_keys jsonb[])
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Count a change for the rows of a versioned table with these keys (the
 * parents of changed rows): lock them in key order, so that transactions
 * changing children of the same parents queue instead of deadlocking, then
 * one UPDATE for all of them. The row trigger bumps each row at most once per
 * transaction; the flag tells it that this no-op UPDATE is a change, and the
 * table's own statement trigger carries the change on to its parent. FOR NO
 * KEY UPDATE is the lock the UPDATE takes anyway, and does not block inserts
 * of children (their foreign key check takes KEY SHARE).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_keys text := idsql._state_version_columns(v_cfg.key_columns, 't');
    v_match text;
BEGIN
    IF p_keys IS NULL OR cardinality(p_keys) = 0 OR NOT v_cfg.enabled THEN
        RETURN;
    END IF;
    v_match := format('(%s) IN (SELECT %s FROM pg_catalog.unnest($1) AS k (j),'
                      ' pg_catalog.jsonb_populate_record(NULL::%s, k.j) AS r)',
                      v_keys, idsql._state_version_columns(v_cfg.key_columns, 'r'), p_tbl);
    EXECUTE format('SELECT count(*) FROM (SELECT FROM %s AS t WHERE %s ORDER BY %s FOR NO KEY UPDATE OF t) AS s',
                   p_tbl, v_match, v_keys)
        USING p_keys;
    PERFORM set_config('idsql.state_version_touch', 'on', true);
    EXECUTE format('UPDATE %1$s AS t SET %2$I = t.%2$I WHERE %3$s', p_tbl, v_cfg.version_column, v_match)
        USING p_keys;
    PERFORM set_config('idsql.state_version_touch', 'off', true);
END
$$;

COMMENT ON FUNCTION idsql._state_version_touch(regclass, jsonb[]) IS
'Internal: count one change for the rows with these keys (lock in key order, then bump once per transaction).';

-- state_versions/functions/_state_version_carry.sql
CREATE OR REPLACE FUNCTION idsql._state_version_carry(p_parent regclass, p_moves jsonb)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Rows of p_parent moved to a parent under another root row; their
 * descendants went with them without changing. p_moves lists the moved rows:
 * [{"k": key, "v": its version now, "from": {"rk": root key, "rv": root
 * version} or null, "to": the same or null}], "from" and "to" as the parent
 * map of the statement trigger gives them (null: no parent, so no root).
 *
 * Each enabled table below p_parent that keeps history records its rows under
 * those parents twice: a MOVE under the root they left, with no parent key
 * (they did not leave their parent, and children_as_of reads by parent key),
 * then an UPDATE under the root they joined, with their parent's version. So
 * every root's history holds exactly the rows that were under it, which is
 * what changes_between and rollback_to_version read. Then the same one level
 * down, for tables with or without history. Called by the statement trigger
 * of a table with descendants that keep history, only when a row changed root.
 */
DECLARE
    v_child idsql.state_version_table;
    v_root regclass;
    v_rows text;
    v_record text;
    v_next jsonb;
BEGIN
    IF p_moves IS NULL OR jsonb_array_length(p_moves) = 0 THEN
        RETURN;
    END IF;
    FOR v_child IN
        SELECT c.* FROM idsql.state_version_table AS c
         WHERE c.parent = p_parent AND c.enabled
         ORDER BY c.tbl::oid
    LOOP
        -- The child rows under the moved parents, with what each parent carries down to them.
        v_rows := format(
            'SELECT %1$s AS key, %2$s AS pk, pg_catalog.to_jsonb(t) AS row_data, %3$s AS v,'
            ' (m.value ->> ''v'')::bigint AS pv, m.value -> ''from'' AS f, m.value -> ''to'' AS o'
            ' FROM pg_catalog.jsonb_array_elements($1) AS m'
            ' CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::%7$s, m.value -> ''k'') AS p'
            ' JOIN %4$s AS t ON (%5$s) = (%6$s)',
            idsql._state_version_json(v_child.key_columns, v_child.key_columns, 't'),
            idsql._state_version_json(v_child.parent_columns, v_child.fk_columns, 't'),
            CASE WHEN v_child.version_column IS NULL THEN 'NULL::bigint'
                 ELSE format('t.%I', v_child.version_column) END,
            v_child.tbl,
            idsql._state_version_columns(v_child.fk_columns, 't'),
            idsql._state_version_columns(v_child.parent_columns, 'p'),
            p_parent);
        -- One statement reads those rows once: it records them, if the table keeps history, and
        -- hands them on as the moves of the level below.
        v_record := '';
        IF v_child.history THEN
            v_root := idsql._state_version_root_table(v_child.tbl);
            -- One INSERT: its first arm (the departures) is written before its second (the arrivals).
            v_record := ', w AS (INSERT INTO idsql.row_version (tbl, key, state_version, parent_key, parent_version,'
                ' root, root_key, root_version, operation, row_data, key_hash, parent_hash, root_hash)'
                ' SELECT $2, s.key, s.v, NULL, NULL, $3, s.f -> ''rk'', (s.f ->> ''rv'')::bigint, ''MOVE'','
                ' s.row_data, pg_catalog.jsonb_hash_extended(s.key, 0), NULL,'
                ' pg_catalog.jsonb_hash_extended(s.f -> ''rk'', 0)'
                ' FROM s WHERE pg_catalog.jsonb_typeof(s.f) = ''object'''
                ' UNION ALL'
                ' SELECT $2, s.key, s.v, s.pk, s.pv, $3, s.o -> ''rk'', (s.o ->> ''rv'')::bigint, ''UPDATE'','
                ' s.row_data, pg_catalog.jsonb_hash_extended(s.key, 0), pg_catalog.jsonb_hash_extended(s.pk, 0),'
                ' pg_catalog.jsonb_hash_extended(s.o -> ''rk'', 0)'
                ' FROM s WHERE pg_catalog.jsonb_typeof(s.o) = ''object'')';
        END IF;
        EXECUTE format('WITH s AS MATERIALIZED (%s)%s'
                       ' SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(''k'', s.key, ''v'', s.v,'
                       ' ''from'', s.f, ''to'', s.o)) FROM s', v_rows, v_record)
           INTO v_next
          USING p_moves, v_child.tbl, v_root;
        PERFORM idsql._state_version_carry(v_child.tbl, v_next);
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_carry(regclass, jsonb) IS
'Internal: record in the history of each descendant table that its rows changed root with a moved parent.';

-- state_versions/functions/_state_version_history.sql
CREATE OR REPLACE FUNCTION idsql._state_version_history(
    p_tbl regclass, p_root regclass, p_from text, p_where text, p_operation text,
    p_tbl_sql text DEFAULT NULL, p_root_sql text DEFAULT NULL
)
    RETURNS text
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * SQL text of the INSERT that records rows of p_tbl in idsql.row_version, one
 * set-based statement for all the rows of a trigger's statement. p_from names
 * the rows as alias r (a transition table, or the table itself for a
 * baseline); p_where filters them. For a table with a parent, $1 is a jsonb
 * map from each parent key to that parent's version and root (key, version),
 * built once per distinct parent; rows without a parent (NULL foreign key)
 * are under no root and are not recorded. p_tbl_sql and p_root_sql spell the
 * table and the root in the SQL when the OIDs must not be written into it (a
 * trigger function, which outlives a dump and restore that gives the tables
 * new OIDs); by default they are OID constants. OFFSET 0 keeps each key an
 * expression evaluated once per row: a subquery pulled up into the SELECT
 * would build the same jsonb again for every column that uses it.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_key text := idsql._state_version_json(v_cfg.key_columns, v_cfg.key_columns, 'r');
    v_version text := CASE WHEN v_cfg.version_column IS NULL THEN 'NULL::bigint'
                           ELSE format('r.%I', v_cfg.version_column) END;
    v_pk text;
    v_tbl text := coalesce(p_tbl_sql, format('%s::pg_catalog.oid::pg_catalog.regclass', p_tbl::oid));
    v_root text := coalesce(p_root_sql, format('%s::pg_catalog.oid::pg_catalog.regclass', p_root::oid));
BEGIN
    IF v_cfg.parent IS NULL THEN
        RETURN format(
            'INSERT INTO idsql.row_version (tbl, key, state_version, parent_key, parent_version,'
            ' root, root_key, root_version, operation, row_data, key_hash, parent_hash, root_hash)'
            ' SELECT %1$s, k.key, %3$s, NULL, NULL,'
            ' %7$s, k.key, %3$s, %4$L, pg_catalog.to_jsonb(r.*),'
            ' k.hash, NULL, k.hash'
            ' FROM %5$s CROSS JOIN LATERAL (SELECT j.key, pg_catalog.jsonb_hash_extended(j.key, 0) AS hash'
            ' FROM (SELECT %2$s AS key OFFSET 0) AS j) AS k WHERE %6$s',
            v_tbl, v_key, v_version, p_operation, p_from, p_where, v_root);
    END IF;
    v_pk := idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'r');
    RETURN format(
        'INSERT INTO idsql.row_version (tbl, key, state_version, parent_key, parent_version,'
        ' root, root_key, root_version, operation, row_data, key_hash, parent_hash, root_hash)'
        ' SELECT %1$s, w.key, %3$s, m.pk, (m.i ->> %9$L)::bigint,'
        ' %4$s, m.i -> %10$L, (m.i ->> %11$L)::bigint,'
        ' %5$L, pg_catalog.to_jsonb(r.*), pg_catalog.jsonb_hash_extended(w.key, 0),'
        ' pg_catalog.jsonb_hash_extended(m.pk, 0), pg_catalog.jsonb_hash_extended(m.i -> %10$L, 0)'
        ' FROM %6$s CROSS JOIN LATERAL (SELECT %7$s AS pk, %2$s AS key OFFSET 0) AS w'
        ' CROSS JOIN LATERAL (SELECT w.pk, $1 -> w.pk::text AS i OFFSET 0) AS m'
        ' WHERE (%8$s) AND m.i IS NOT NULL',
        v_tbl, v_key, v_version, v_root, p_operation, p_from, v_pk, p_where, 'v', 'rk', 'rv');
END
$$;

COMMENT ON FUNCTION idsql._state_version_history(regclass, regclass, text, text, text, text, text) IS
'Internal: SQL text of the set-based INSERT that records changed rows of a table in idsql.row_version.';

-- state_versions/functions/_state_version_define.sql
CREATE OR REPLACE FUNCTION idsql._state_version_define(fn name, definition text, description text)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Define a function generated for a user's table: definition is its CREATE
 * FUNCTION idsql.<fn>() statement, description its comment. The function is
 * dropped first, not replaced (the caller has dropped the triggers that call
 * it): inside an extension script (ALTER EXTENSION UPDATE generating the
 * triggers of enabled tables anew) PostgreSQL refuses to replace a function
 * the extension does not own. A function created there becomes a member of
 * the extension, and is taken out again: it belongs with its table's
 * triggers, and pg_dump would otherwise leave it out while dumping them.
 */
DECLARE
    v_extension name;
BEGIN
    PERFORM idsql._state_version_drop_function(_state_version_define.fn);
    EXECUTE _state_version_define.definition;
    SELECT e.extname INTO v_extension
      FROM pg_depend AS d
      JOIN pg_extension AS e ON e.oid = d.refobjid
     WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
       AND d.objid = to_regprocedure(format('idsql.%I()', _state_version_define.fn));
    IF FOUND THEN
        EXECUTE format('ALTER EXTENSION %I DROP FUNCTION idsql.%I()', v_extension, _state_version_define.fn);
    END IF;
    EXECUTE format('COMMENT ON FUNCTION idsql.%I() IS %L', _state_version_define.fn, _state_version_define.description);
END
$$;

COMMENT ON FUNCTION idsql._state_version_define(name, text, text) IS
'Internal: (re)create a function generated for a user''s table, never as a member of the extension, with its comment.';

-- state_versions/functions/_state_version_drop_function.sql
CREATE OR REPLACE FUNCTION idsql._state_version_drop_function(fn name)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Drop the generated trigger function idsql.<fn>() if there is one. DROP
 * FUNCTION IF EXISTS would send a NOTICE for each one that is not there, and
 * enable_state_version and disable_state_version would pass it on to callers
 * who did nothing wrong.
 */
BEGIN
    IF to_regprocedure(format('idsql.%I()', _state_version_drop_function.fn)) IS NOT NULL THEN
        EXECUTE format('DROP FUNCTION idsql.%I()', _state_version_drop_function.fn);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._state_version_drop_function(name) IS
'Internal: drop a generated trigger function of idsql if there is one, without a NOTICE when there is none.';

-- state_versions/functions/_state_version_function_name.sql
CREATE OR REPLACE FUNCTION idsql._state_version_function_name(tbl regclass, kind text)
    RETURNS name
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Name the function generated for a table, kind 'row' or 'after': the one
 * its idsql trigger of that kind calls now, when it has one, so that a name
 * stays with its table; else tg_state_version_<kind>_<table OID>, with a
 * suffix when a function of that name serves another table's trigger. That
 * happens after a dump and restore: the functions keep the names of the old
 * OIDs, and a table created later may get one of them.
 */
DECLARE
    v_trigger name := (CASE _state_version_function_name.kind WHEN 'row' THEN 'idsql_state_version_row'
                                                            WHEN 'after' THEN 'idsql_state_version_insert' END)::name;
    v_name name;
    v_base text := format('tg_state_version_%s_%s', _state_version_function_name.kind,
                          _state_version_function_name.tbl::oid);
BEGIN
    IF v_trigger IS NULL THEN
        RAISE EXCEPTION 'invalid kind "%"', _state_version_function_name.kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use row or after.';
    END IF;
    SELECT p.proname INTO v_name
      FROM pg_trigger AS t
      JOIN pg_proc AS p ON p.oid = t.tgfoid
     WHERE t.tgrelid = _state_version_function_name.tbl AND t.tgname = v_trigger
       AND p.pronamespace = 'idsql'::regnamespace;
    IF FOUND THEN
        RETURN v_name;
    END IF;
    v_name := v_base::name;
    FOR v_n IN 2..1000 LOOP
        EXIT WHEN NOT EXISTS (
            SELECT FROM pg_trigger AS t
              JOIN pg_proc AS p ON p.oid = t.tgfoid
             WHERE p.proname = v_name AND p.pronamespace = 'idsql'::regnamespace
               AND t.tgrelid <> _state_version_function_name.tbl);
        v_name := format('%s_%s', v_base, v_n)::name;
    END LOOP;
    RETURN v_name;
END
$$;

COMMENT ON FUNCTION idsql._state_version_function_name(regclass, text) IS
'Internal: the name of the row or statement trigger function generated for a table, never one serving another table.';

-- state_versions/functions/_state_version_after_function.sql
CREATE OR REPLACE FUNCTION idsql._state_version_after_function(p_tbl regclass, p_fn name)
    RETURNS name
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * (Re)create the statement-level AFTER trigger function of a tracked table,
 * idsql.<p_fn>() (see _state_version_function_name), from its configuration,
 * and return its name. Once per INSERT, UPDATE or DELETE statement it:
 * 1. counts the change for each distinct parent of the changed rows (old and
 *    new parent of a moved row) through _state_version_touch, which locks
 *    them in key order; the parent's own trigger carries it on to the root;
 * 2. records the changed rows in idsql.row_version, if the table keeps history;
 * 3. when a row moved to a parent under another root row and some table below
 *    keeps history, records that its descendants changed root with it
 *    (_state_version_carry).
 * A no-op UPDATE is written unchanged (so that it counts in the statement's
 * row count) and flags the transaction (_state_version_noop): from then on,
 * an UPDATE reads its transition tables through the rows it changed, a new row
 * with no equal old row of its key and the other way round, so that rows
 * written unchanged touch no parent and leave no history. Until then, every
 * row of the transition tables changed, and the statements read them as they are.
 * The SQL is generated once here, as static SQL in the function, so each
 * session plans it once instead of on every statement. It names the tables by TG_RELID and, for
 * a child, by its parent and root read from idsql.state_version_table, never
 * by OID constants: a dump and restore gives the tables new OIDs and keeps
 * the function's text.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(p_tbl);
    v_root regclass := idsql._state_version_root_table(p_tbl);
    v_head text;
    v_body text := '';
    v_k_n text := idsql._state_version_columns(v_cfg.key_columns, 'n');
    v_k_o text := idsql._state_version_columns(v_cfg.key_columns, 'o');
    v_root_sql text := 'TG_RELID::regclass';
    v_pk_n text;
    v_pk_o text;
    v_fk_n text;
    v_fk_o text;
    -- A row that moves to a parent under another root takes its descendants with it: when some
    -- table below keeps history, _state_version_carry records that they changed root.
    v_carry boolean := v_cfg.parent IS NOT NULL AND v_cfg.version_column IS NOT NULL AND EXISTS (
        WITH RECURSIVE d (tbl, history) AS (
            SELECT c.tbl, c.history FROM idsql.state_version_table AS c WHERE c.parent = p_tbl AND c.enabled
            UNION ALL
            SELECT c.tbl, c.history FROM idsql.state_version_table AS c JOIN d ON c.parent = d.tbl WHERE c.enabled
        )
        SELECT FROM d WHERE d.history);
BEGIN
    -- Each table's function declares only what it uses.
    v_head := CASE WHEN v_cfg.parent IS NULL THEN E'BEGIN\n'
                   ELSE E'DECLARE\n    idsql_parent regclass;\n    idsql_parents jsonb[];\n'
                        || CASE WHEN v_cfg.history OR v_carry THEN E'    idsql_map jsonb;\n' ELSE '' END
                        || CASE WHEN v_cfg.history THEN E'    idsql_root regclass;\n' ELSE '' END
                        || CASE WHEN v_carry THEN E'    idsql_moves jsonb;\n' ELSE '' END
                        || E'BEGIN\n' END;
    IF v_cfg.parent IS NOT NULL THEN
        v_body := v_body
            || E'    SELECT c.parent INTO idsql_parent FROM idsql.state_version_table AS c WHERE c.tbl = TG_RELID;\n';
        IF v_cfg.history THEN
            v_body := v_body || E'    idsql_root := idsql._state_version_root_table(TG_RELID::regclass);\n';
            v_root_sql := 'idsql_root';
        END IF;
        v_pk_n := idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'n');
        v_pk_o := idsql._state_version_json(v_cfg.parent_columns, v_cfg.fk_columns, 'o');
        v_fk_n := idsql._state_version_columns(v_cfg.fk_columns, 'n');
        v_fk_o := idsql._state_version_columns(v_cfg.fk_columns, 'o');
        v_body := v_body || format(
            E'    IF TG_OP = ''INSERT'' THEN\n' ||
            E'        SELECT array_agg(DISTINCT %1$s) INTO idsql_parents FROM idsql_new AS n' ||
            E' WHERE pg_catalog.num_nulls(%3$s) = 0;\n' ||
            E'    ELSIF TG_OP = ''DELETE'' THEN\n' ||
            E'        SELECT array_agg(DISTINCT %2$s) INTO idsql_parents FROM idsql_old AS o' ||
            E' WHERE pg_catalog.num_nulls(%4$s) = 0;\n' ||
            E'    ELSE\n' ||
            E'        SELECT array_agg(DISTINCT s.p) INTO idsql_parents FROM (' ||
            E'SELECT %1$s FROM idsql_new AS n WHERE pg_catalog.num_nulls(%3$s) = 0' ||
            E' UNION SELECT %2$s FROM idsql_old AS o WHERE pg_catalog.num_nulls(%4$s) = 0) AS s (p);\n' ||
            E'    END IF;\n' ||
            E'    PERFORM idsql._state_version_touch(idsql_parent, idsql_parents);\n',
            v_pk_n, v_pk_o, v_fk_n, v_fk_o);
        IF v_cfg.history OR v_carry THEN
            v_body := v_body || E'    idsql_map := idsql._state_version_parent_map(idsql_parent, idsql_parents);\n';
        END IF;
        IF v_carry THEN
            v_body := v_body || format(
                -- Only when the parents before and after are under more than one root row.
                E'    IF TG_OP = ''UPDATE'' AND (SELECT pg_catalog.count(DISTINCT e.value -> ''rk'')' ||
                E' FROM pg_catalog.jsonb_each(idsql_map) AS e) > 1 THEN\n' ||
                E'        SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(''k'', %1$s, ''v'', n.%2$I,' ||
                E' ''from'', idsql_map -> (%3$s)::text, ''to'', idsql_map -> (%4$s)::text)) INTO idsql_moves' ||
                E' FROM idsql_old AS o JOIN idsql_new AS n ON (%5$s) = (%6$s)' ||
                E' WHERE (idsql_map -> (%3$s)::text -> ''rk'') IS DISTINCT FROM (idsql_map -> (%4$s)::text -> ''rk'');\n' ||
                E'        PERFORM idsql._state_version_carry(TG_RELID::regclass, idsql_moves);\n' ||
                E'    END IF;\n',
                idsql._state_version_json(v_cfg.key_columns, v_cfg.key_columns, 'n'), v_cfg.version_column,
                v_pk_o, v_pk_n,
                idsql._state_version_columns(v_cfg.key_columns, 'o'), idsql._state_version_columns(v_cfg.key_columns, 'n'));
        END IF;
    END IF;
    IF v_cfg.history THEN
        v_body := v_body
            || E'    IF TG_OP = ''INSERT'' THEN\n        '
            || replace(idsql._state_version_history(p_tbl, v_root, 'idsql_new AS r', 'true', 'INSERT',
                                                  'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map')
            || E';\n    ELSIF TG_OP = ''DELETE'' THEN\n        '
            || replace(idsql._state_version_history(p_tbl, v_root, 'idsql_old AS r', 'true', 'DELETE',
                                                  'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map')
            || E';\n    ELSE\n';
        IF v_cfg.parent IS NOT NULL THEN
            -- A row that moved to another parent leaves its old one: recorded there first.
            v_body := v_body || '        ' || replace(idsql._state_version_history(
                p_tbl, v_root,
                format('idsql_old AS r JOIN idsql_new AS n ON (%s) = (%s)',
                       idsql._state_version_columns(v_cfg.key_columns, 'r'),
                       idsql._state_version_columns(v_cfg.key_columns, 'n')),
                format('(%s) IS DISTINCT FROM (%s)',
                       idsql._state_version_columns(v_cfg.fk_columns, 'r'),
                       idsql._state_version_columns(v_cfg.fk_columns, 'n')),
                'MOVE', 'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map') || E';\n';
        END IF;
        v_body := v_body || '        '
            || replace(idsql._state_version_history(p_tbl, v_root, 'idsql_new AS r', 'true', 'UPDATE',
                                                  'TG_RELID::regclass', v_root_sql), '$1', 'idsql_map')
            || E';\n    END IF;\n';
    END IF;
    -- Every statement above names a transition table as "idsql_new AS x" or "idsql_old AS x":
    -- the copy for a transaction with no-op UPDATEs names the changed rows instead.
    v_body := '    ' || replace(rtrim(v_body, E'\n'), E'\n', E'\n    ') || E'\n';
    v_body := v_head
        || E'    IF TG_OP = ''UPDATE'' AND pg_catalog.current_setting(''idsql.state_version_noop'', true) = ''on'' THEN\n'
        || replace(replace(replace(replace(v_body,
                                           'idsql_new AS ', chr(1) || ' AS '),
                                   'idsql_old AS ', chr(2) || ' AS '),
                           chr(1), format('(SELECT n.* FROM idsql_new AS n WHERE NOT EXISTS (SELECT FROM idsql_old AS o'
                                          ' WHERE (%s) = (%s) AND n.* OPERATOR(pg_catalog.*=) o.*))', v_k_o, v_k_n)),
                   chr(2), format('(SELECT o.* FROM idsql_old AS o WHERE NOT EXISTS (SELECT FROM idsql_new AS n'
                                  ' WHERE (%s) = (%s) AND n.* OPERATOR(pg_catalog.*=) o.*))', v_k_n, v_k_o))
        || E'    ELSE\n' || v_body || E'    END IF;\n    RETURN NULL;\nEND\n';
    PERFORM idsql._state_version_define(
        p_fn,
        format(E'CREATE FUNCTION idsql.%I()\n'
               || E'    RETURNS trigger\n    LANGUAGE plpgsql\n    VOLATILE\n'
               || E'    SET search_path = pg_catalog, pg_temp\nAS $fn$\n'
               || E'/* Statement trigger of %s, generated by idsql.enable_state_version(). */\n%s$fn$',
               p_fn, p_tbl, v_body),
        format('Statement trigger of %s generated by enable_state_version(): parents, history.', p_tbl));
    RETURN p_fn;
END
$$;

COMMENT ON FUNCTION idsql._state_version_after_function(regclass, name) IS
'Internal: (re)create the generated statement trigger function of a tracked table; returns its name.';

-- state_versions/functions/_state_version_triggers.sql
CREATE OR REPLACE FUNCTION idsql._state_version_triggers(tbl regclass, old_function name DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * (Re)create the triggers of a tracked table and the functions generated for
 * it from its configuration row in idsql.state_version_table, dropping the
 * ones it had (old_function: the row function it had, when its name changed,
 * as after a restore with new OIDs). Called by enable_state_version() and, for
 * every enabled table, by _state_version_refresh() when idsql is installed or
 * upgraded, so that triggers generated by an older version are generated anew.
 *
 * - With a version column or timestamps: a row function generated for the
 *   table (the version column is only reachable by name in PL/pgSQL), on
 *   BEFORE INSERT (version 1, timestamps) and BEFORE UPDATE (no-op UPDATEs
 *   written unchanged and counted for nothing, optimistic-lock check, version
 *   bump once per transaction, updated_at). Without, and with a parent or
 *   history: a trigger that flags no-op UPDATEs (_state_version_skip).
 * - With a parent or history: statement-level AFTER triggers with transition
 *   tables calling the function _state_version_after_function() generates.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(_state_version_triggers.tbl);
    v_fn name := v_cfg.row_function;
    v_touch text;
    v_noop text;
    v_key text;
    v_fast text[];
    v_fast_do text;
    -- Named before the triggers that tell it go.
    v_after name := idsql._state_version_function_name(_state_version_triggers.tbl, 'after');
    v_body text;
BEGIN
    PERFORM idsql._state_version_drop_triggers(_state_version_triggers.tbl);
    IF _state_version_triggers.old_function IS DISTINCT FROM v_fn AND _state_version_triggers.old_function IS NOT NULL THEN
        PERFORM idsql._state_version_drop_function(_state_version_triggers.old_function);
    END IF;

    IF v_cfg.row_function IS NOT NULL THEN
        -- The generated function runs once per row of every UPDATE, so it has no SET
        -- clause: a function with one pays a GUC save and restore on every call, which
        -- alone costs more than the bump. It resolves nothing through search_path
        -- instead: every function, operator and type in it is schema-qualified.
        v_touch := '(pg_catalog.current_setting(''idsql.state_version_touch'', true) OPERATOR(pg_catalog.=) ''on'')';
        -- A no-op UPDATE is written unchanged, so that the statement reports the row (UPDATE n,
        -- RETURNING) as it would without triggers; it counts for nothing (_state_version_noop).
        -- A row with a version column not counted yet in this transaction is marked: it now has
        -- this transaction's xmin, and a later change must still count it.
        v_key := idsql._state_version_json(v_cfg.key_columns, v_cfg.key_columns, 'old');
        v_noop := format(E'        PERFORM idsql._state_version_noop(TG_RELID, %s);\n',
                         CASE WHEN v_cfg.version_column IS NULL THEN 'NULL'
                              ELSE format('CASE WHEN pg_catalog.age(OLD.xmin) OPERATOR(pg_catalog.>) 0'
                                          ' OR NOT idsql._own_xid(OLD.xmin) THEN %s END', v_key) END);
        -- The common UPDATE first, as one condition: a row written before this transaction, its
        -- version and timestamps left alone, and some other column changed. It only bumps the
        -- version and sets updated_at, which is what the full path below does for such a row.
        -- PL/pgSQL pays for every expression it evaluates: with STABLE (below), this path cuts
        -- what the function adds per row to the smallest bump trigger from about 6,200 to 4,100
        -- instructions (counted in a bulk UPDATE); NEW *= OLD is 2,400 of them.
        -- age() > 0: written before this transaction began (a subtransaction's xid is newer).
        v_fast := ARRAY['TG_OP OPERATOR(pg_catalog.=) ''UPDATE''']
            || ARRAY(SELECT format('NEW.%1$I OPERATOR(pg_catalog.=) OLD.%1$I', c.col)
                       FROM unnest(idsql._state_version_bookkeeping(v_cfg)) WITH ORDINALITY AS c (col, n)
                      ORDER BY c.n)
            || CASE WHEN v_cfg.version_column IS NULL THEN '{}'::text[]
                    ELSE ARRAY['pg_catalog.age(OLD.xmin) OPERATOR(pg_catalog.>) 0'] END
            || ARRAY['NOT NEW OPERATOR(pg_catalog.*=) OLD'];
        v_fast_do := concat(
            CASE WHEN v_cfg.version_column IS NOT NULL THEN
                format(E'        NEW.%1$I := OLD.%1$I OPERATOR(pg_catalog.+) 1;\n', v_cfg.version_column) END,
            CASE WHEN v_cfg.updated_column IS NOT NULL THEN
                format(E'        NEW.%I := pg_catalog.now();\n', v_cfg.updated_column) END);
        v_body := format(E'BEGIN\n    IF %s THEN\n%s        RETURN NEW;\n    END IF;\n',
                         array_to_string(v_fast, E'\n       AND '), v_fast_do);
        -- The full path: INSERT, no-op, stale version, a row this transaction already wrote, a
        -- parent touched for a child, a change of the timestamps.
        -- %I refuses NULL: each piece is built only for the columns the table has.
        v_body := v_body || E'    IF TG_OP OPERATOR(pg_catalog.=) ''INSERT'' THEN\n';
        IF v_cfg.version_column IS NOT NULL THEN
            v_body := v_body || format(E'        NEW.%I := 1;\n', v_cfg.version_column);
        END IF;
        IF v_cfg.created_column IS NOT NULL THEN
            v_body := v_body || format(E'        NEW.%1$I := coalesce(NEW.%1$I, pg_catalog.now());\n', v_cfg.created_column);
        END IF;
        IF v_cfg.updated_column IS NOT NULL THEN
            v_body := v_body || format(E'        NEW.%1$I := coalesce(NEW.%1$I, pg_catalog.now());\n', v_cfg.updated_column);
        END IF;
        v_body := v_body || E'        RETURN NEW;\n    END IF;\n';
        -- A no-op UPDATE: the new row image equals the old one. A parent touched for a child is
        -- the exception, and counts.
        v_body := v_body || format(E'    IF NEW OPERATOR(pg_catalog.*=) OLD AND %s IS NOT TRUE THEN\n' ||
                                   E'%s        RETURN NEW;\n    END IF;\n', v_touch, v_noop);
        IF v_cfg.version_column IS NOT NULL THEN
            -- Optimistic lock: setting the version to anything but its current value is stale.
            v_body := v_body || format(
                E'    IF (NEW.%1$I OPERATOR(pg_catalog.=) OLD.%1$I) IS NOT TRUE\n' ||
                E'       AND (NEW.%1$I IS NOT NULL OR OLD.%1$I IS NOT NULL) THEN\n' ||
                E'        PERFORM idsql._raise_stale_version(TG_RELID::pg_catalog.regclass, %2$L, OLD.%1$I, NEW.%1$I);\n' ||
                E'    END IF;\n',
                v_cfg.version_column, v_cfg.version_column);
        END IF;
        IF v_cfg.created_column IS NOT NULL OR v_cfg.updated_column IS NOT NULL THEN
            -- A change to the timestamps alone is a no-op: written unchanged.
            v_body := v_body || format(
                E'    IF %1$s THEN\n' ||
                E'        %2$s\n' ||
                E'        IF NEW OPERATOR(pg_catalog.*=) OLD AND %3$s IS NOT TRUE THEN\n' ||
                E'    %4$s' ||
                E'            RETURN NEW;\n' ||
                E'        END IF;\n' ||
                E'    END IF;\n',
                concat_ws(' OR ',
                          CASE WHEN v_cfg.created_column IS NOT NULL THEN
                              format('(NEW.%1$I OPERATOR(pg_catalog.=) OLD.%1$I) IS NOT TRUE', v_cfg.created_column) END,
                          CASE WHEN v_cfg.updated_column IS NOT NULL THEN
                              format('(NEW.%1$I OPERATOR(pg_catalog.=) OLD.%1$I) IS NOT TRUE', v_cfg.updated_column) END),
                concat_ws(' ',
                          CASE WHEN v_cfg.created_column IS NOT NULL THEN format('NEW.%1$I := OLD.%1$I;', v_cfg.created_column) END,
                          CASE WHEN v_cfg.updated_column IS NOT NULL THEN format('NEW.%1$I := OLD.%1$I;', v_cfg.updated_column) END),
                v_touch, v_noop);
        END IF;
        IF v_cfg.version_column IS NOT NULL THEN
            -- Once per transaction: a row this transaction already wrote has counted, unless it
            -- was only written unchanged (marked, and only looked for once a no-op happened).
            -- age() > 0: written before this transaction began, the cheap common case;
            -- else ask exactly (subtransactions have xids of their own). A parent
            -- touched again in the same transaction is not written again.
            v_body := v_body || format(
                E'    IF pg_catalog.age(OLD.xmin) OPERATOR(pg_catalog.>) 0 OR NOT idsql._own_xid(OLD.xmin) THEN\n' ||
                E'        NEW.%1$I := OLD.%1$I OPERATOR(pg_catalog.+) 1;\n' ||
                E'    ELSIF pg_catalog.current_setting(''idsql.state_version_noop'', true) OPERATOR(pg_catalog.=) ''on''\n' ||
                E'          AND idsql._state_version_unmark(TG_RELID, %3$s) THEN\n' ||
                E'        NEW.%1$I := OLD.%1$I OPERATOR(pg_catalog.+) 1;\n' ||
                E'    ELSIF %2$s IS TRUE THEN\n' ||
                E'        RETURN NULL;\n' ||
                E'    END IF;\n',
                v_cfg.version_column, v_touch, v_key);
        END IF;
        IF v_cfg.updated_column IS NOT NULL THEN
            v_body := v_body || format(E'    NEW.%I := pg_catalog.now();\n', v_cfg.updated_column);
        END IF;
        v_body := v_body || E'    RETURN NEW;\nEND\n';
        PERFORM idsql._state_version_define(
            v_fn,
            -- STABLE: it reads no table and writes none (it only changes NEW), and PL/pgSQL
            -- then evaluates its expressions that call age() or current_setting() without taking
            -- a new snapshot and command id for each, which a VOLATILE function does per row.
            format(E'CREATE FUNCTION idsql.%I()\n' ||
                   E'    RETURNS trigger\n    LANGUAGE plpgsql\n    STABLE\nAS $fn$\n' ||
                   E'/* Row trigger of %s, generated by idsql.enable_state_version(). */\n%s$fn$',
                   v_fn, _state_version_triggers.tbl, v_body),
            format('Row trigger of %s generated by enable_state_version(): version, timestamps, stale check.',
                   _state_version_triggers.tbl));
        EXECUTE format('CREATE TRIGGER idsql_state_version_init BEFORE INSERT ON %s'
                       ' FOR EACH ROW EXECUTE FUNCTION idsql.%I()', _state_version_triggers.tbl, v_fn);
        EXECUTE format('CREATE TRIGGER idsql_state_version_row BEFORE UPDATE ON %s FOR EACH ROW'
                       ' EXECUTE FUNCTION idsql.%I()', _state_version_triggers.tbl, v_fn);
    ELSIF v_cfg.parent IS NOT NULL OR v_cfg.history THEN
        -- Without a row function, a trigger that runs only for no-op UPDATEs (the WHEN clause
        -- compares the row images in the executor) tells the statement trigger that the
        -- transaction wrote rows unchanged. Such a table has no version column, so it is never a
        -- parent and never touched.
        EXECUTE format('CREATE TRIGGER idsql_state_version_noop BEFORE UPDATE ON %s FOR EACH ROW'
                       ' WHEN (NEW OPERATOR(pg_catalog.*=) OLD) EXECUTE FUNCTION idsql._state_version_skip()',
                       _state_version_triggers.tbl);
    END IF;

    IF v_cfg.parent IS NOT NULL OR v_cfg.history THEN
        -- Generated from the chain as it is now: enable the children again after
        -- giving one of their ancestors another parent.
        PERFORM idsql._state_version_after_function(_state_version_triggers.tbl, v_after);
        EXECUTE format('CREATE TRIGGER idsql_state_version_insert AFTER INSERT ON %s'
                       ' REFERENCING NEW TABLE AS idsql_new'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION idsql.%I()', _state_version_triggers.tbl, v_after);
        -- The old rows of an UPDATE: the parents they leave, and which rows were written
        -- unchanged by a no-op UPDATE.
        EXECUTE format('CREATE TRIGGER idsql_state_version_update AFTER UPDATE ON %s'
                       ' REFERENCING NEW TABLE AS idsql_new OLD TABLE AS idsql_old'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION idsql.%I()', _state_version_triggers.tbl, v_after);
        EXECUTE format('CREATE TRIGGER idsql_state_version_delete AFTER DELETE ON %s'
                       ' REFERENCING OLD TABLE AS idsql_old'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION idsql.%I()', _state_version_triggers.tbl, v_after);
    ELSE
        PERFORM idsql._state_version_drop_function(v_after);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._state_version_triggers(regclass, name) IS
'Internal: (re)create the triggers and generated functions of a tracked table from its configuration.';

-- state_versions/functions/_state_version_triggers_above.sql
CREATE OR REPLACE FUNCTION idsql._state_version_triggers_above(p_tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Generate anew the triggers of the enabled tables above p_tbl that have a
 * parent themselves: whether such a table records the moves of its
 * descendants (_state_version_after_function) depends on whether a table
 * below it keeps history, which enabling or disabling p_tbl can change. A
 * root never moves, so it is left alone.
 */
DECLARE
    v_up regclass;
    v_seen regclass[] := ARRAY[p_tbl];
BEGIN
    SELECT c.parent INTO v_up FROM idsql.state_version_table AS c WHERE c.tbl = p_tbl;
    WHILE v_up IS NOT NULL AND v_up <> ALL (v_seen) LOOP
        v_seen := v_seen || v_up;
        IF EXISTS (SELECT FROM idsql.state_version_table AS c
                    WHERE c.tbl = v_up AND c.enabled AND c.parent IS NOT NULL) THEN
            PERFORM idsql._state_version_triggers(v_up);
        END IF;
        SELECT c.parent INTO v_up FROM idsql.state_version_table AS c WHERE c.tbl = v_up;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql._state_version_triggers_above(regclass) IS
'Internal: generate anew the triggers of the tables above a tracked table (not its root).';

-- state_versions/functions/_state_version_refresh.sql
CREATE OR REPLACE FUNCTION idsql._state_version_refresh()
    RETURNS integer
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Generate the triggers and trigger functions of every enabled table anew
 * (_state_version_triggers), and return how many tables that was. The install
 * script runs it, so that an upgrade reaches the tables enabled under an
 * older version: their generated functions are written against the idsql
 * tables of that version. Tables dropped since are skipped.
 */
DECLARE
    v_count integer := 0;
    v_tbl regclass;
BEGIN
    FOR v_tbl IN
        SELECT c.tbl FROM idsql.state_version_table AS c
         WHERE c.enabled AND EXISTS (SELECT FROM pg_class AS k WHERE k.oid = c.tbl)
         ORDER BY c.tbl::oid
    LOOP
        PERFORM idsql._state_version_triggers(v_tbl);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION idsql._state_version_refresh() IS
'Internal: generate the triggers of every enabled table anew (run by the install script after an upgrade).';

-- state_versions/functions/enable_state_version.sql
CREATE OR REPLACE FUNCTION idsql.enable_state_version(
    tbl regclass,
    version_column name DEFAULT 'state_version',
    parent regclass DEFAULT NULL,
    parent_fk name DEFAULT NULL,
    history boolean DEFAULT false
)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Track changes of a table (idempotent: run it again after a schema change,
 * or to change the settings): record the configuration in
 * idsql.state_version_table, then install the triggers and the functions
 * generated for the table (_state_version_triggers: a row trigger for the
 * version, the optimistic lock, no-op UPDATEs and timestamps; statement-level
 * AFTER triggers with transition tables when there is a parent to count for or
 * history to keep). The tables above it that have a parent get theirs anew:
 * they record the moves of descendants that keep history.
 * The parent must be tracked already and versioned; the foreign key to it is
 * found in the catalog (parent_fk names it when there are several) and must
 * reference the parent's primary key. With history, rows present now are
 * recorded once as a BASELINE so that as-of reads see them.
 */
DECLARE
    v_kind "char";
    v_citus text;
    v_type regtype;
    v_keys name[];
    v_parent idsql.state_version_table;
    v_fk_name name;
    v_fk_cols name[];
    v_pk_cols name[];
    v_fks bigint;
    v_up regclass;
    v_created name;
    v_updated name;
    v_old name;
    v_fn name := idsql._state_version_function_name(enable_state_version.tbl, 'row');
    v_map jsonb;
    v_parents jsonb[];
BEGIN
    IF enable_state_version.tbl IS NULL OR enable_state_version.history IS NULL THEN
        RAISE EXCEPTION '% is NULL', CASE WHEN enable_state_version.tbl IS NULL THEN 'tbl' ELSE 'history' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a table, for example enable_state_version(''entity'', parent => ''session'').';
    END IF;
    SELECT c.relkind INTO v_kind FROM pg_class AS c WHERE c.oid = enable_state_version.tbl;
    IF v_kind IS DISTINCT FROM 'r' OR enable_state_version.tbl::oid IN (
        'idsql.row_version'::regclass, 'idsql.state_version_table'::regclass) THEN
        RAISE EXCEPTION '% is not a table state versions can track', enable_state_version.tbl
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = 'State versions need an ordinary table (not a view, partitioned table or idsql''s own).',
                  HINT = 'Enable it on an ordinary table.';
    END IF;
    v_citus := (idsql._citus_table(enable_state_version.tbl)).kind;
    IF v_citus IS NOT NULL THEN
        RAISE EXCEPTION 'state versions cannot track the % table %', v_citus, enable_state_version.tbl
            USING ERRCODE = 'ID308',  -- sharded_table
                  DETAIL = 'Citus keeps its rows in shards and runs each statement on them apart: the triggers '
                           'would fire there, without the configuration and history, and would see a statement '
                           'half-way.',
                  HINT = 'Track tables Citus does not manage (a table with a foreign key to a reference table '
                         'becomes a Citus local table), and distribute the tables that hold the bulk.';
    END IF;
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', enable_state_version.tbl);

    IF enable_state_version.version_column IS NOT NULL THEN
        SELECT a.atttypid::regtype INTO v_type FROM pg_attribute AS a
         WHERE a.attrelid = enable_state_version.tbl AND a.attname = enable_state_version.version_column
           AND a.attnum > 0 AND NOT a.attisdropped;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'column "%" of % does not exist', enable_state_version.version_column,
                            enable_state_version.tbl
                USING ERRCODE = 'undefined_column',
                      HINT = format('Add it: ALTER TABLE %s ADD %I bigint NOT NULL DEFAULT 1; or pass '
                                    'version_column => NULL for a table whose changes only count for its parent.',
                                    enable_state_version.tbl, enable_state_version.version_column);
        END IF;
        IF v_type NOT IN ('bigint'::regtype, 'integer'::regtype, 'smallint'::regtype) THEN
            RAISE EXCEPTION 'column "%" of % is %, not an integer', enable_state_version.version_column,
                            enable_state_version.tbl, v_type
                USING ERRCODE = 'datatype_mismatch',
                      HINT = 'Use a bigint column for the version.';
        END IF;
    END IF;

    SELECT array_agg(a.attname ORDER BY k.ord) INTO v_keys
      FROM pg_index AS i
     CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k (attnum, ord)
      JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = enable_state_version.tbl AND i.indisprimary;
    IF v_keys IS NULL THEN
        RAISE EXCEPTION '% has no primary key', enable_state_version.tbl
            USING ERRCODE = 'ID306',  -- no_primary_key
                  DETAIL = 'History, rollback and parent counting name rows by their primary key.',
                  HINT = 'Add a primary key to the table, then enable it again.';
    END IF;

    IF enable_state_version.parent IS NOT NULL THEN
        v_parent := idsql._state_version_config(enable_state_version.parent);
        IF v_parent.version_column IS NULL OR NOT v_parent.enabled THEN
            RAISE EXCEPTION 'parent % has no state version', enable_state_version.parent
                USING ERRCODE = 'ID302',  -- not_tracked
                      DETAIL = 'A parent counts the changes of its children in its own version column.',
                      HINT = 'Enable the parent with a version column first.';
        END IF;
        v_up := enable_state_version.parent;
        WHILE v_up IS NOT NULL LOOP
            IF v_up = enable_state_version.tbl THEN
                RAISE EXCEPTION 'parent % would make a cycle', enable_state_version.parent
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = format('%s is already above %s.', enable_state_version.tbl,
                                          enable_state_version.parent),
                          HINT = 'State versions count changes up a tree: a table cannot be its own ancestor.';
            END IF;
            SELECT c.parent INTO v_up FROM idsql.state_version_table AS c WHERE c.tbl = v_up;
        END LOOP;
        SELECT count(*) INTO v_fks FROM pg_constraint AS c
         WHERE c.conrelid = enable_state_version.tbl AND c.confrelid = enable_state_version.parent
           AND c.contype = 'f' AND (enable_state_version.parent_fk IS NULL OR c.conname = enable_state_version.parent_fk);
        IF v_fks = 0 THEN
            RAISE EXCEPTION '%', format('no foreign key from %s to %s%s', enable_state_version.tbl,
                                        enable_state_version.parent,
                                        coalesce(format(' named "%s"', enable_state_version.parent_fk), ''))
                USING ERRCODE = 'ID304',  -- parent_fk_not_found
                      DETAIL = 'A child''s changes count for the parent row its foreign key points at.',
                      HINT = 'Add the foreign key to the parent''s primary key first.';
        ELSIF v_fks > 1 THEN
            RAISE EXCEPTION '% foreign keys from % to %', v_fks, enable_state_version.tbl, enable_state_version.parent
                USING ERRCODE = 'ID305',  -- ambiguous_parent_fk
                      DETAIL = 'A child''s changes count for one parent row: the one a single foreign key points at.',
                      HINT = 'Name the one to follow with parent_fk => ''constraint_name''.';
        END IF;
        SELECT c.conname,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k (n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS fk,
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k (n, o)
                       JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS pk
          INTO v_fk_name, v_fk_cols, v_pk_cols
          FROM pg_constraint AS c
         WHERE c.conrelid = enable_state_version.tbl AND c.confrelid = enable_state_version.parent
           AND c.contype = 'f' AND (enable_state_version.parent_fk IS NULL OR c.conname = enable_state_version.parent_fk);
        IF ARRAY(SELECT unnest(v_pk_cols) ORDER BY 1) <> ARRAY(SELECT unnest(v_parent.key_columns) ORDER BY 1) THEN
            RAISE EXCEPTION 'foreign key "%" does not reference the primary key of %', v_fk_name,
                            enable_state_version.parent
                USING ERRCODE = 'ID304',  -- parent_fk_not_found
                      DETAIL = format('It references (%s); the primary key is (%s).',
                                      array_to_string(v_pk_cols, ', '), array_to_string(v_parent.key_columns, ', ')),
                      HINT = 'Point the foreign key at the parent''s primary key.';
        END IF;
    END IF;

    SELECT (max(a.attname::text) FILTER (WHERE a.attname = 'created_at'))::name,
           (max(a.attname::text) FILTER (WHERE a.attname = 'updated_at'))::name
      INTO v_created, v_updated
      FROM pg_attribute AS a
     WHERE a.attrelid = enable_state_version.tbl AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname IN ('created_at', 'updated_at')
       AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype);

    SELECT c.row_function INTO v_old FROM idsql.state_version_table AS c WHERE c.tbl = enable_state_version.tbl;
    INSERT INTO idsql.state_version_table AS c (
        tbl, version_column, parent, parent_fk, fk_columns, parent_columns, key_columns,
        created_column, updated_column, history, enabled, row_function, enabled_at
    ) VALUES (
        enable_state_version.tbl, enable_state_version.version_column, enable_state_version.parent,
        v_fk_name, coalesce(v_fk_cols, '{}'), coalesce(v_pk_cols, '{}'), v_keys, v_created, v_updated,
        enable_state_version.history, true,
        CASE WHEN enable_state_version.version_column IS NOT NULL OR v_created IS NOT NULL
                  OR v_updated IS NOT NULL THEN v_fn END,
        now()
    )
    ON CONFLICT ON CONSTRAINT state_version_table_pkey DO UPDATE
        SET version_column = excluded.version_column, parent = excluded.parent, parent_fk = excluded.parent_fk,
            fk_columns = excluded.fk_columns, parent_columns = excluded.parent_columns,
            key_columns = excluded.key_columns, created_column = excluded.created_column,
            updated_column = excluded.updated_column, history = excluded.history, enabled = true,
            row_function = excluded.row_function, enabled_at = excluded.enabled_at;

    PERFORM idsql._state_version_triggers(enable_state_version.tbl, v_old);
    PERFORM idsql._state_version_triggers_above(enable_state_version.tbl);

    IF enable_state_version.history THEN
        IF enable_state_version.parent IS NOT NULL THEN
            EXECUTE format('SELECT array_agg(DISTINCT %s) FROM %s AS r WHERE pg_catalog.num_nulls(%s) = 0',
                           idsql._state_version_json(v_pk_cols, v_fk_cols, 'r'), enable_state_version.tbl,
                           idsql._state_version_columns(v_fk_cols, 'r'))
               INTO v_parents;
            v_map := idsql._state_version_parent_map(enable_state_version.parent, v_parents);
        END IF;
        EXECUTE idsql._state_version_history(
            enable_state_version.tbl, idsql._state_version_root_table(enable_state_version.tbl),
            format('%s AS r', enable_state_version.tbl),
            -- No entry yet, recorded with a parent or as a root (see idsql.row_history).
            format('NOT EXISTS (SELECT FROM idsql.row_version AS h WHERE h.key_hash = pg_catalog.jsonb_hash_extended(%2$s, 0)'
                   ' AND h.root <> h.tbl AND h.tbl = %1$s::pg_catalog.oid::pg_catalog.regclass AND h.key = %2$s)'
                   ' AND NOT EXISTS (SELECT FROM idsql.row_version AS h WHERE h.root_hash = pg_catalog.jsonb_hash_extended(%2$s, 0)'
                   ' AND h.tbl = %1$s::pg_catalog.oid::pg_catalog.regclass AND h.root = h.tbl AND h.key = %2$s)',
                   enable_state_version.tbl::oid, idsql._state_version_json(v_keys, v_keys, 'r')),
            'BASELINE')
            USING v_map;
    END IF;
END
$$;

COMMENT ON FUNCTION idsql.enable_state_version(regclass, name, regclass, name, boolean) IS
'Track changes of a table: version bump once per transaction, parent counting up to the root, optional history; idempotent.';

-- state_versions/functions/disable_state_version.sql
CREATE OR REPLACE FUNCTION idsql.disable_state_version(tbl regclass)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Stop tracking a table: drop pyidsql's triggers and the table's generated
 * trigger functions. The table's data, its version column and its history stay;
 * enable_state_version() picks up from there (history resumes, rows changed
 * meanwhile get no entry until their next change).
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(disable_state_version.tbl);
    v_after name := idsql._state_version_function_name(disable_state_version.tbl, 'after');
BEGIN
    PERFORM idsql._state_version_drop_triggers(disable_state_version.tbl);
    PERFORM idsql._state_version_drop_function(v_after);
    IF v_cfg.row_function IS NOT NULL THEN
        PERFORM idsql._state_version_drop_function(v_cfg.row_function);
    END IF;
    UPDATE idsql.state_version_table AS c
       SET enabled = false, row_function = NULL
     WHERE c.tbl = disable_state_version.tbl;
    PERFORM idsql._state_version_triggers_above(disable_state_version.tbl);
END
$$;

COMMENT ON FUNCTION idsql.disable_state_version(regclass) IS
'Stop tracking a table: remove pyidsql''s triggers; keep its data, version column and history.';

-- state_versions/functions/row_history.sql
CREATE OR REPLACE FUNCTION idsql.row_history(tbl regclass, key jsonb)
    RETURNS TABLE (
        state_version bigint,
        root_version bigint,
        operation text,
        row_data jsonb,
        changed_at timestamptz
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Every version of one row, oldest first: the last entry each transaction
 * wrote for it (a transaction that changed the row twice committed one
 * version). MOVE entries, which say the row left a parent, are left out: the
 * same transaction recorded the row under its new parent. Ordered by id, the
 * order of writing: the writers of one row queue on its row lock, and a row
 * moved with its parent is written under the parent's lock. Not by version:
 * a row deleted and inserted again starts at version 1, and a row without a
 * version column has only its root's, which moving to another root resets.
 * Entries written by 0.1.0 (ids below history_order.cached_below),
 * whose ids were cached per session, come first and in 0.1.0's order.
 */
DECLARE
    v_first bigint := coalesce((SELECT o.cached_below FROM idsql.history_order AS o), 0);
BEGIN
    PERFORM idsql._state_version_config(row_history.tbl, true);
    IF row_history.key IS NULL THEN
        RAISE EXCEPTION 'key is NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the primary key as jsonb, for example ''{"entity_id": "A"}''.';
    END IF;
    RETURN QUERY
        SELECT v.state_version, v.root_version, v.operation, v.row_data, v.changed_at
          FROM (SELECT DISTINCT ON (h.xid) h.id, h.state_version, h.root_version, h.operation, h.row_data, h.changed_at
                  FROM (-- Recorded with a parent: through the index of keys.
                        SELECT r.* FROM idsql.row_version AS r
                         WHERE r.key_hash = jsonb_hash_extended(row_history.key, 0) AND r.root <> r.tbl
                           AND r.tbl = row_history.tbl AND r.key = row_history.key
                        UNION ALL
                        -- Recorded as a root (the table may have had no parent then): its key is the root's.
                        SELECT r.* FROM idsql.row_version AS r
                         WHERE r.root_hash = jsonb_hash_extended(row_history.key, 0) AND r.tbl = row_history.tbl
                           AND r.root = r.tbl AND r.key = row_history.key) AS h
                 WHERE h.operation <> 'MOVE'
                 ORDER BY h.xid, h.id DESC) AS v
         ORDER BY v.id >= v_first,
                  CASE WHEN v.id < v_first THEN coalesce(v.state_version, v.root_version) END,
                  CASE WHEN v.id < v_first THEN v.root_version END,
                  v.id;
END
$$;

COMMENT ON FUNCTION idsql.row_history(regclass, jsonb) IS
'Every committed version of one row of a table with history, oldest first.';

-- state_versions/functions/children_as_of.sql
CREATE OR REPLACE FUNCTION idsql.children_as_of(tbl regclass, parent_key jsonb, parent_version bigint)
    RETURNS SETOF jsonb
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The rows of tbl under one parent as they were when the parent had this
 * version: per row, its last entry counted at that parent version or before,
 * unless that entry is a deletion or a move away. Rows come back as jsonb,
 * ordered by key, so a column added since reads as absent, not as an error.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(children_as_of.tbl, true);
    v_parent bigint := jsonb_hash_extended(children_as_of.parent_key, 0);
BEGIN
    IF v_cfg.parent IS NULL THEN
        RAISE EXCEPTION '% has no parent', children_as_of.tbl
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Read the children of a parent: pass the child table, the parent''s key and its version.';
    END IF;
    IF children_as_of.parent_key IS NULL OR children_as_of.parent_version IS NULL THEN
        RAISE EXCEPTION '% is NULL', CASE WHEN children_as_of.parent_key IS NULL THEN 'parent_key'
                                          ELSE 'parent_version' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the parent''s key as jsonb and a version number.';
    END IF;
    -- A skip scan: the distinct rows under the parent one index probe each, then each
    -- row's last entry at that version one probe each, whatever the length of history.
    -- Rows whose keys share a 64-bit hash under one parent would hide one another.
    RETURN QUERY
        WITH RECURSIVE k (key_hash) AS (
            (SELECT h.key_hash FROM idsql.row_version AS h
              WHERE h.tbl = children_as_of.tbl AND h.parent_hash = v_parent AND h.parent_key IS NOT NULL
              ORDER BY h.key_hash LIMIT 1)
            UNION ALL
            SELECT (SELECT h.key_hash FROM idsql.row_version AS h
                     WHERE h.tbl = children_as_of.tbl AND h.parent_hash = v_parent AND h.parent_key IS NOT NULL
                       AND h.key_hash > k.key_hash
                     ORDER BY h.key_hash LIMIT 1)
              FROM k WHERE k.key_hash IS NOT NULL
        )
        SELECT v.row_data
          FROM k
         CROSS JOIN LATERAL (
               SELECT h.key, h.operation, h.row_data FROM idsql.row_version AS h
                WHERE h.tbl = children_as_of.tbl AND h.parent_hash = v_parent AND h.parent_key IS NOT NULL
                  AND h.key_hash = k.key_hash AND h.parent_version <= children_as_of.parent_version
                  AND h.parent_key = children_as_of.parent_key
                ORDER BY h.parent_version DESC, h.id DESC
                LIMIT 1) AS v
         WHERE k.key_hash IS NOT NULL AND v.operation NOT IN ('DELETE', 'MOVE')
         ORDER BY v.key;
END
$$;

COMMENT ON FUNCTION idsql.children_as_of(regclass, jsonb, bigint) IS
'The rows of a table under one parent as they were when the parent had a given version (jsonb, by key).';

-- state_versions/functions/changes_between.sql
CREATE OR REPLACE FUNCTION idsql.changes_between(
    root regclass, root_key jsonb, from_version bigint, to_version bigint
)
    RETURNS TABLE (
        table_name regclass,
        key jsonb,
        change text,
        old_data jsonb,
        new_data jsonb,
        changed_fields text[]
    )
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $$
/*
 * What differs under one root row between two of its versions, over every
 * table with history below it (and the root itself): rows added, removed, or
 * changed with the list of columns that differ. Bookkeeping columns (the
 * version column, created_at, updated_at) never count, so a parent whose
 * version moved only because a child changed does not appear.
 *
 * Only a row with an entry between the two versions can differ, so the work
 * follows the changes, not the length of the history: the entries between
 * the versions give each such row's state at the later one, and one index
 * probe per row its state at the earlier one (its last entry at or before it).
 * The rows come out ordered by table and key.
 *
 * jit is off: the planner prices each probe at a scan of the row's whole
 * history, so a diff of a thousand rows passes jit_above_cost, and compiling
 * took longer than the query (about 30 of 70 ms for the last version of
 * 1,000 entities x 100 versions).
 */
DECLARE
    v_lo bigint := least(changes_between.from_version, changes_between.to_version);
    v_hi bigint := greatest(changes_between.from_version, changes_between.to_version);
    v_hash bigint := jsonb_hash_extended(changes_between.root_key, 0);
BEGIN
    PERFORM idsql._state_version_config(changes_between.root);
    IF changes_between.root_key IS NULL OR changes_between.from_version IS NULL
       OR changes_between.to_version IS NULL THEN
        RAISE EXCEPTION 'root_key, from_version and to_version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the root''s key as jsonb and two versions, for example 2 and 4.';
    END IF;
    RETURN QUERY
        WITH hi AS (
            -- The last entry of each row changed after the earlier version, up to the later one.
            -- Sorted by the key's hash first: a row may have many entries in the range, and two
            -- hashes compare far faster than two jsonb keys. The rows found are sorted by key once,
            -- at the end (sorting every entry by key instead made a diff of 1,000 rows over 100
            -- versions half as slow again).
            SELECT DISTINCT ON (h.tbl, h.key_hash, h.key) h.tbl, h.key_hash, h.key, h.operation, h.row_data
              FROM idsql.row_version AS h
             WHERE h.root_hash = v_hash AND h.root = changes_between.root AND h.root_key = changes_between.root_key
               AND h.root_version > v_lo AND h.root_version <= v_hi
             ORDER BY h.tbl, h.key_hash, h.key, h.root_version DESC, h.id DESC
        ),
        lo AS (
            -- The same rows at the earlier version, by one probe each: the root's own row through
            -- the root index, the others through the key index (see idsql.row_version). A DELETE
            -- or MOVE entry, or none, means the row was not there.
            SELECT hi.tbl, hi.key,
                   CASE WHEN hi.operation NOT IN ('DELETE', 'MOVE') THEN hi.row_data END AS hi_data,
                   CASE WHEN l.operation NOT IN ('DELETE', 'MOVE') THEN l.row_data END AS lo_data
              FROM hi
              LEFT JOIN LATERAL (
                   -- One arm at most finds a row, so the outer ORDER BY and the root arm's
                   -- redundant root = tbl change no result; they are for the plan. Without them
                   -- the planner fetched each row's whole history and sorted it (15 ms became
                   -- 115 ms for the last version of 1,000 entities x 100 versions); with them it
                   -- merges the arms in order and walks the key index backwards to one entry.
                   SELECT e.operation, e.row_data
                     FROM ((SELECT r.id, r.root_version, r.operation, r.row_data
                              FROM idsql.row_version AS r
                             WHERE hi.tbl <> changes_between.root
                               AND r.key_hash = hi.key_hash AND r.root <> r.tbl AND r.root_version <= v_lo
                               AND r.tbl = hi.tbl AND r.key = hi.key AND r.root_hash = v_hash
                               AND r.root = changes_between.root AND r.root_key = changes_between.root_key
                             ORDER BY r.root_version DESC, r.id DESC
                             LIMIT 1)
                           UNION ALL
                           (SELECT r.id, r.root_version, r.operation, r.row_data
                              FROM idsql.row_version AS r
                             WHERE hi.tbl = changes_between.root
                               AND r.root_hash = v_hash AND r.tbl = hi.tbl AND r.root_version <= v_lo
                               AND r.root = r.tbl AND r.key = hi.key
                               AND r.root = changes_between.root AND r.root_key = changes_between.root_key
                             ORDER BY r.root_version DESC, r.id DESC
                             LIMIT 1)) AS e
                    ORDER BY e.root_version DESC, e.id DESC
                    LIMIT 1) AS l ON true
        ),
        -- Each side as the caller ordered the versions. Materialized: the outer query reads each
        -- side several times, and inlined, every read would evaluate its CASE again.
        f AS MATERIALIZED (
            SELECT lo.tbl, lo.key,
                   CASE WHEN changes_between.from_version = v_lo THEN lo.lo_data ELSE lo.hi_data END AS old_data,
                   CASE WHEN changes_between.from_version = v_lo THEN lo.hi_data ELSE lo.lo_data END AS new_data
              FROM lo
        ),
        -- Once per table (materialized, so never again per row): its bookkeeping columns (bk), the
        -- others by name (data), and all of them (the keys of every row written since the table's
        -- columns last changed).
        t AS MATERIALIZED (
            SELECT c.tbl, b.bk, d.data, b.bk || d.data AS cols
              FROM (SELECT DISTINCT f.tbl FROM f) AS u
              JOIN idsql.state_version_table AS c ON c.tbl = u.tbl
             CROSS JOIN LATERAL (SELECT idsql._state_version_bookkeeping(c) AS bk) AS b
             CROSS JOIN LATERAL (
                   SELECT ARRAY(SELECT a.attname::text FROM pg_attribute AS a
                                 WHERE a.attrelid = c.tbl AND a.attnum > 0 AND NOT a.attisdropped
                                   AND a.attname::text <> ALL (b.bk)
                                 ORDER BY a.attname::text COLLATE "default") AS data
                  ) AS d
        )
        -- The columns that differ, found once per row (OFFSET 0 keeps the subquery from being
        -- pulled up and evaluated again in the WHERE clause): a row whose only differences are
        -- bookkeeping has none, and is no change. When neither side has a key outside the table's
        -- columns, the columns are the table's, already in order; a row from before a column was
        -- dropped or renamed takes the keys of both sides. The first way costs half the second:
        -- jsonb_object_keys() and (||) each build a value per row, and every row is sorted.
        -- unnest() yields the elements in the array's order, and a filter keeps it.
        SELECT f.tbl, f.key,
               CASE WHEN f.old_data IS NULL THEN 'added' WHEN f.new_data IS NULL THEN 'removed' ELSE 'changed' END,
               f.old_data, f.new_data, d.fields
          FROM f
          JOIN t ON t.tbl = f.tbl
         CROSS JOIN LATERAL (
               SELECT CASE WHEN f.old_data IS NULL OR f.new_data IS NULL THEN NULL
                           WHEN (f.old_data - t.cols) = '{}'::jsonb AND (f.new_data - t.cols) = '{}'::jsonb THEN
                               ARRAY(SELECT k.k FROM unnest(t.data) AS k (k)
                                      WHERE (f.old_data -> k.k) IS DISTINCT FROM (f.new_data -> k.k))
                           ELSE
                               ARRAY(SELECT k.k FROM jsonb_object_keys((f.old_data || f.new_data) - t.bk) AS k (k)
                                      WHERE (f.old_data -> k.k) IS DISTINCT FROM (f.new_data -> k.k)
                                      ORDER BY k.k)
                      END AS fields
               OFFSET 0) AS d
         WHERE (f.old_data IS NOT NULL OR f.new_data IS NOT NULL)
           AND (d.fields IS NULL OR d.fields <> '{}')
         ORDER BY f.tbl::oid, f.key;
END
$$;

COMMENT ON FUNCTION idsql.changes_between(regclass, jsonb, bigint, bigint) IS
'Rows added, removed or changed (with the columns that differ) under one root between two of its versions.';

-- state_versions/functions/rollback_to_version.sql
CREATE OR REPLACE FUNCTION idsql.rollback_to_version(root regclass, root_key jsonb, target_version bigint)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Put every table with history under one root row back as it was at
 * target_version, as a new version: rows inserted since are deleted, rows
 * deleted since are inserted again (their version starts at 1 again), rows
 * changed since get their old values back (their version moves on), and rows
 * that moved under another root row since come back, with their descendants. All in
 * the caller's transaction, so the root counts it once, and a rollback can
 * itself be rolled back. Parents are written before their children and
 * deleted after them. Columns added since keep their current value on
 * updated rows; generated columns are left to the server. Returns the root
 * row's new version.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(rollback_to_version.root);
    v_current bigint;
    v_oldest bigint;
    v_tbl record;
    v_tables regclass[];
    v_depth bigint;
    v_deletes text[] := '{}'::text[];
    v_delete text;
    v_cols text;
    v_set text;
    v_match text;
    v_target text;
    v_now text;
    v_version bigint;
BEGIN
    IF v_cfg.parent IS NOT NULL THEN
        RAISE EXCEPTION '% is not a root', rollback_to_version.root
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Its changes count for %s.', v_cfg.parent),
                  HINT = format('Roll back the root above it, %s.', idsql._state_version_root_table(rollback_to_version.root));
    END IF;
    IF rollback_to_version.root_key IS NULL OR rollback_to_version.target_version IS NULL THEN
        RAISE EXCEPTION 'root_key and target_version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the root''s key as jsonb and the version to go back to.';
    END IF;
    SELECT r.version INTO v_current FROM idsql._state_version_root(rollback_to_version.root,
                                                                   rollback_to_version.root_key) AS r;
    -- The root row's own entries date what is kept: it has one per version, and
    -- prune_history() leaves only the last of those it cuts.
    SELECT coalesce(min(h.root_version) FILTER (WHERE h.tbl = rollback_to_version.root
                                                  AND h.key = rollback_to_version.root_key),
                    min(h.root_version))
      INTO v_oldest
      FROM idsql.row_version AS h
     WHERE h.root_hash = jsonb_hash_extended(rollback_to_version.root_key, 0)
       AND h.root = rollback_to_version.root AND h.root_key = rollback_to_version.root_key;
    IF v_current IS NULL OR v_oldest IS NULL OR rollback_to_version.target_version NOT BETWEEN v_oldest AND v_current THEN
        RAISE EXCEPTION 'version % of % % is not in its history', rollback_to_version.target_version,
                        rollback_to_version.root, rollback_to_version.root_key
            USING ERRCODE = 'ID307',  -- version_not_kept
                  DETAIL = CASE WHEN v_current IS NULL THEN 'The root row does not exist.'
                                WHEN v_oldest IS NULL THEN 'No history is kept under this root row.'
                                ELSE format('History covers versions %s to %s.', v_oldest, v_current) END,
                  HINT = 'Pick a version between the oldest kept (prune_history removes older ones) and the current one.';
    END IF;

    -- Top-down: the root first, then each level below it.
    WITH RECURSIVE t (tbl, depth) AS (
        SELECT c.tbl, 0 FROM idsql.state_version_table AS c WHERE c.tbl = rollback_to_version.root
        UNION ALL
        SELECT c.tbl, t.depth + 1 FROM idsql.state_version_table AS c JOIN t ON c.parent = t.tbl
    )
    SELECT array_agg(t.tbl ORDER BY t.depth, t.tbl::oid) INTO v_tables FROM t;

    FOR v_tbl IN
        SELECT o.tbl, o.n, c.key_columns,
               idsql._state_version_bookkeeping(c) AS bk
          FROM unnest(v_tables) WITH ORDINALITY AS o (tbl, n) JOIN idsql.state_version_table AS c ON c.tbl = o.tbl
         WHERE c.history AND c.enabled
         ORDER BY o.n
    LOOP
        v_depth := v_tbl.n;
        -- The state at the target and now, per row: its last entry under this root. Sorted by
        -- the key's hash first, which settles nearly every comparison without comparing jsonb
        -- (a rollback of 1,000 rows x 100 versions sorts 100,000 entries, three times).
        v_target := format(
            'SELECT DISTINCT ON (h.key_hash, h.key) h.key, h.operation, h.row_data FROM idsql.row_version AS h'
            ' WHERE h.root_hash = pg_catalog.jsonb_hash_extended($2, 0) AND h.tbl = %s::pg_catalog.oid::pg_catalog.regclass'
            ' AND h.root = $1 AND h.root_key = $2'
            ' AND h.root_version <= $3 ORDER BY h.key_hash, h.key, h.root_version DESC, h.id DESC',
            v_tbl.tbl::oid);
        v_now := replace(v_target, ' AND h.root_version <= $3', '');
        v_match := format('(%s) = (SELECT %s FROM pg_catalog.jsonb_populate_record(NULL::%s, x.key) AS k)',
                          idsql._state_version_columns(v_tbl.key_columns, 't'),
                          idsql._state_version_columns(v_tbl.key_columns, 'k'), v_tbl.tbl);
        SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
               string_agg(format('%1$I = (pg_catalog.jsonb_populate_record(t.*, x.row_data)).%1$I', a.attname), ', '
                          ORDER BY a.attnum)
                   FILTER (WHERE a.attname <> ALL (v_tbl.key_columns) AND a.attname::text <> ALL (v_tbl.bk))
          INTO v_cols, v_set
          FROM pg_attribute AS a
         WHERE a.attrelid = v_tbl.tbl AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
        -- Rows gone from the table since the target come back; rows changed since get their old
        -- values, wherever they are: one that moved under another root row moves back.
        EXECUTE format(
            'INSERT INTO %1$s AS t (%2$s) OVERRIDING SYSTEM VALUE'
            ' SELECT (pg_catalog.jsonb_populate_record(NULL::%1$s, x.row_data)).* FROM (%3$s) AS x'
            ' WHERE x.operation NOT IN (''DELETE'', ''MOVE'') AND NOT EXISTS (SELECT FROM %1$s AS t WHERE %4$s)',
            v_tbl.tbl, v_cols, v_target, v_match)
            USING rollback_to_version.root, rollback_to_version.root_key, rollback_to_version.target_version;
        IF v_depth > 1 THEN
            v_deletes := format(
                'DELETE FROM %1$s AS t USING (%2$s) AS x WHERE x.operation NOT IN (''DELETE'', ''MOVE'') AND %3$s'
                ' AND NOT EXISTS (SELECT FROM (%4$s) AS y WHERE y.key = x.key AND y.operation NOT IN (''DELETE'', ''MOVE''))',
                v_tbl.tbl, v_now, v_match, v_target) || v_deletes;
        END IF;
        IF v_set IS NOT NULL THEN
            EXECUTE format(
                'UPDATE %1$s AS t SET %2$s FROM (%3$s) AS x WHERE x.operation NOT IN (''DELETE'', ''MOVE'') AND %4$s',
                v_tbl.tbl, v_set, v_target, v_match)
                USING rollback_to_version.root, rollback_to_version.root_key, rollback_to_version.target_version;
        END IF;
    END LOOP;

    -- Bottom-up: rows that did not exist at the target go, children before parents.
    FOREACH v_delete IN ARRAY v_deletes LOOP
        EXECUTE v_delete
            USING rollback_to_version.root, rollback_to_version.root_key, rollback_to_version.target_version;
    END LOOP;

    -- A new version even when nothing differed: the rollback is an event of its own.
    PERFORM idsql._state_version_touch(rollback_to_version.root, ARRAY[rollback_to_version.root_key]);
    SELECT r.version INTO v_version FROM idsql._state_version_root(rollback_to_version.root,
                                                                   rollback_to_version.root_key) AS r;
    RETURN v_version;
END
$$;

COMMENT ON FUNCTION idsql.rollback_to_version(regclass, jsonb, bigint) IS
'Restore every table with history under a root row to its state at a version, as a new version; returns it.';

-- state_versions/functions/prune_history.sql
CREATE OR REPLACE FUNCTION idsql.prune_history(root regclass, keep_versions integer DEFAULT 100)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Drop history older than the last keep_versions versions of each root row
 * of a root table. Of the entries at or before the cut, the last one of each
 * row stays (unless it is a deletion or a move away): it is that row's state
 * through the first kept versions, so as-of reads, diffs and rollbacks keep
 * working for every kept version. Returns the number of entries removed.
 */
DECLARE
    v_cfg idsql.state_version_table := idsql._state_version_config(prune_history.root);
    v_removed bigint;
BEGIN
    IF v_cfg.parent IS NOT NULL THEN
        RAISE EXCEPTION '% is not a root', prune_history.root
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = format('Prune the root above it, %s.', idsql._state_version_root_table(prune_history.root));
    END IF;
    IF prune_history.keep_versions IS NULL OR prune_history.keep_versions < 1 THEN
        RAISE EXCEPTION 'keep_versions must be at least 1, not %', coalesce(prune_history.keep_versions::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Keep at least the current version, for example keep_versions => 100.';
    END IF;
    WITH cut AS (
        SELECT h.root_key, max(h.root_version) - prune_history.keep_versions AS last_dropped
          FROM idsql.row_version AS h
         WHERE h.root = prune_history.root
         GROUP BY h.root_key
    ),
    old AS (
        SELECT h.id, h.operation,
               row_number() OVER (PARTITION BY h.root_key, h.tbl, h.key ORDER BY h.root_version DESC, h.id DESC) AS n
          FROM idsql.row_version AS h
          JOIN cut ON cut.root_key = h.root_key
         WHERE h.root = prune_history.root AND h.root_version <= cut.last_dropped
    )
    DELETE FROM idsql.row_version AS d
     USING old
     WHERE d.id = old.id AND (old.n > 1 OR old.operation IN ('DELETE', 'MOVE'));
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    RETURN v_removed;
END
$$;

COMMENT ON FUNCTION idsql.prune_history(regclass, integer) IS
'Drop history older than the last N versions of each root row, keeping as-of working for the kept ones.';

-- sequence_repair/functions/_sequence_columns.sql
CREATE OR REPLACE FUNCTION idsql._sequence_columns()
    RETURNS TABLE (
        table_name regclass,
        column_name name,
        sequence_name regclass,
        kind text,
        column_type regtype,
        schema_name name,
        relname name,
        label text
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Every column that draws from a sequence, found through the catalog and
 * never by guessing names (pg_get_serial_sequence's quoting rules are the
 * classic failure): pg_depend links a serial column to the sequence it owns
 * (deptype 'a') and an identity column to its sequence ('i'); a column DEFAULT
 * that calls nextval on any other sequence depends on it from pg_attrdef.
 * Partitions are left out (their parent is counted once, and max() through the
 * parent sees every partition), as are temporary tables, the system schemas
 * and idsql itself.
 *
 * label is the column's name in report lines, in the original runbook's
 * shape: user.user_id in public, schema-qualified elsewhere (sales.invoice.id);
 * a name that is not plain lower-case ASCII is double-quoted
 * ("User Data"."Order-Items".id) so a label reads back unambiguously, while
 * keywords such as user stay bare, as the original printed them.
 */
    WITH owned AS (
        SELECT d.refobjid AS tbl, d.refobjsubid AS attnum, d.objid AS seq,
               CASE d.deptype WHEN 'i' THEN 'identity' ELSE 'serial' END AS kind
          FROM pg_depend AS d
          JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    ),
    defaults AS (
        SELECT ad.adrelid AS tbl, ad.adnum AS attnum, d.refobjid AS seq, 'default' AS kind
          FROM pg_attrdef AS ad
          JOIN pg_depend AS d
            ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
           AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
          JOIN pg_class AS s ON s.oid = d.refobjid AND s.relkind = 'S'
         WHERE NOT EXISTS (SELECT FROM owned AS o
                            WHERE o.tbl = ad.adrelid AND o.attnum = ad.adnum AND o.seq = d.refobjid)
           -- the DEFAULT's expression tree calls nextval(regclass): read from the tree, not deparsed
           AND ad.adbin::text LIKE format('%%:funcid %s %%', 'nextval(regclass)'::regprocedure::oid)
    ),
    found AS (
        SELECT o.tbl, o.attnum, o.seq, o.kind FROM owned AS o
        UNION ALL
        SELECT f.tbl, f.attnum, f.seq, f.kind FROM defaults AS f
    )
    SELECT c.oid::regclass, a.attname, f.seq::regclass, f.kind, a.atttypid::regtype, n.nspname, c.relname,
           concat_ws('.',
                     CASE WHEN n.nspname <> 'public' THEN
                     CASE WHEN n.nspname ~ '^[a-z_][a-z0-9_$]*$' THEN n.nspname::text
                          ELSE '"' || replace(n.nspname, '"', '""') || '"' END
                     END,
                     CASE WHEN c.relname ~ '^[a-z_][a-z0-9_$]*$' THEN c.relname::text
                          ELSE '"' || replace(c.relname, '"', '""') || '"' END,
                     CASE WHEN a.attname ~ '^[a-z_][a-z0-9_$]*$' THEN a.attname::text
                          ELSE '"' || replace(a.attname, '"', '""') || '"' END)
      FROM found AS f
      JOIN pg_class AS c ON c.oid = f.tbl
      JOIN pg_namespace AS n ON n.oid = c.relnamespace
      JOIN pg_attribute AS a ON a.attrelid = f.tbl AND a.attnum = f.attnum AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'idsql')
       AND n.nspname !~ '^pg_(toast_)?temp_'
$$;

COMMENT ON FUNCTION idsql._sequence_columns() IS
'Every table column that draws from a sequence (serial, identity or a nextval DEFAULT), found through pg_depend.';

-- sequence_repair/functions/_in_schemas.sql
CREATE OR REPLACE FUNCTION idsql._in_schemas(tbl regclass, schemas name[])
    RETURNS boolean
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Whether a table is in one of schemas (NULL: every schema). The sequence
 * reports list the columns in the schemas asked for; a sequence those columns
 * share with tables elsewhere is still measured and fixed across all of them.
 */
SELECT _in_schemas.schemas IS NULL
       OR EXISTS (SELECT FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                   WHERE c.oid = _in_schemas.tbl AND n.nspname = ANY(_in_schemas.schemas));
$$;

COMMENT ON FUNCTION idsql._in_schemas(regclass, name[]) IS
'Internal: whether a table is in one of the schemas given (NULL: every schema).';

-- sequence_repair/functions/_sequence_groups.sql
CREATE OR REPLACE FUNCTION idsql._sequence_groups(schemas name[])
    RETURNS TABLE (
        sequence_name regclass,
        tables regclass[],
        columns name[],
        kinds text[],
        column_types regtype[],
        label text
    )
    LANGUAGE sql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * One row per sequence with every column that draws from it, in table OID
 * order (the order the fix locks them in, so two runs cannot deadlock). A
 * sequence shared with a table outside `schemas` keeps that table: its max
 * counts too. Ordered by schema and table name, for a stable report. label
 * names every column in report lines (see _sequence_columns).
 */
    SELECT c.sequence_name,
           array_agg(c.table_name ORDER BY c.table_name::oid, c.column_name),
           array_agg(c.column_name ORDER BY c.table_name::oid, c.column_name),
           array_agg(c.kind ORDER BY c.table_name::oid, c.column_name),
           array_agg(c.column_type ORDER BY c.table_name::oid, c.column_name),
           string_agg(c.label, ', ' ORDER BY c.table_name::oid, c.column_name)
      FROM idsql._sequence_columns() AS c
     GROUP BY c.sequence_name
    HAVING _sequence_groups.schemas IS NULL OR bool_or(c.schema_name = ANY(_sequence_groups.schemas))
     ORDER BY min(c.schema_name COLLATE "C"), min(c.relname COLLATE "C"), c.sequence_name::oid
$$;

COMMENT ON FUNCTION idsql._sequence_groups(name[]) IS
'One row per sequence with every column that draws from it, in table OID order; NULL schemas means all.';

-- sequence_repair/functions/_sequence_state.sql
CREATE OR REPLACE FUNCTION idsql._sequence_state(
    seq regclass,
    tables regclass[],
    columns name[],
    column_types regtype[],
    margin bigint,
    OUT increment bigint,
    OUT data_max bigint,
    OUT last_value bigint,
    OUT is_called boolean,
    OUT next_value bigint,
    OUT target bigint,
    OUT status text
)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Where a sequence stands against the data of every column that draws from
 * it. "Max" is taken in the sequence's direction: max() for an ascending
 * sequence, min() for a descending one, across all its columns (a shared
 * sequence must clear them all). next_value is what nextval would return now
 * (NULL when the sequence is exhausted); target is where a fix puts it: one
 * increment (plus margin) past the data, or START for empty tables, never
 * outside MINVALUE..MAXVALUE (NULL when the data leaves no room). near_limit
 * means less than 10% of the usable range is left, the range being the
 * sequence's bounds narrowed to the smallest column type it feeds. Exact
 * arithmetic in numeric, so bigint edges cannot overflow. Takes no locks of
 * its own: the caller locks when it needs a stable max. On a Citus coordinator
 * the bigint columns of tables Citus manages count below 2^48 only, where the
 * first worker's range begins.
 */
DECLARE
    v_start bigint;
    v_seqmin bigint;
    v_seqmax bigint;
    v_extreme text := '';
    v_dir integer;
    v_low numeric;
    v_high numeric;
    v_next numeric;
    v_target numeric;
    v_reach numeric;
    v_near boolean;
    v_citus boolean := to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL;
    v_sharded boolean;
    v_ranged boolean := false;
    v_worker_range constant bigint := 281474976710656;  -- 2^48: where the first worker's range starts
BEGIN
    SELECT p.seqstart, p.seqincrement, p.seqmin, p.seqmax INTO STRICT v_start, increment, v_seqmin, v_seqmax
      FROM pg_sequence AS p
     WHERE p.seqrelid = _sequence_state.seq;
    -- One dynamic statement per sequence reads its state and the data's extreme: this runs once
    -- per table of the database, and planning it is most of the cost, so it names only the
    -- aggregate the sequence's direction needs.
    FOR i IN 1 .. cardinality(_sequence_state.tables) LOOP
        -- On a Citus coordinator, a bigint column of a table Citus manages also holds what the
        -- workers drew: worker group g draws from its own range, from g * 2^48 + 1. The
        -- coordinator's sequence must stay below the first of them, and only its own range counts.
        v_sharded := v_citus AND _sequence_state.column_types[i] = 'bigint'::regtype
                     AND (idsql._citus_table(_sequence_state.tables[i])).kind IS NOT NULL;
        v_ranged := v_ranged OR v_sharded;
        v_extreme := v_extreme || CASE WHEN i > 1 THEN ', ' ELSE '' END
                     || format('(SELECT %s(t.%I)::bigint FROM %s AS t%s)',
                               CASE WHEN increment > 0 THEN 'max' ELSE 'min' END,
                               _sequence_state.columns[i], _sequence_state.tables[i],
                               CASE WHEN v_sharded THEN format(' WHERE t.%I < %s', _sequence_state.columns[i],
                                                               v_worker_range) ELSE '' END);
    END LOOP;
    EXECUTE format('SELECT s.last_value, s.is_called, %s(%s) FROM %s AS s',
                   CASE WHEN increment > 0 THEN 'greatest' ELSE 'least' END, v_extreme, _sequence_state.seq)
       INTO STRICT last_value, is_called, data_max;
    v_dir := sign(increment)::integer;

    v_low := v_seqmin::numeric;
    v_high := v_seqmax::numeric;
    IF 'smallint'::regtype = ANY(_sequence_state.column_types) THEN
        v_low := greatest(v_low, -32768);
        v_high := least(v_high, 32767);
    ELSIF 'integer'::regtype = ANY(_sequence_state.column_types) THEN
        v_low := greatest(v_low, -2147483648);
        v_high := least(v_high, 2147483647);
    END IF;
    IF v_ranged THEN
        v_seqmax := least(v_seqmax, v_worker_range - 1);
        v_high := least(v_high, v_worker_range - 1);
    END IF;

    v_next := CASE WHEN is_called
                   THEN last_value::numeric + increment
                   ELSE last_value::numeric END;
    next_value := CASE WHEN v_next BETWEEN v_seqmin AND v_seqmax THEN v_next::bigint END;

    IF data_max IS NULL THEN
        v_target := v_start::numeric;
        v_reach := v_next;
    ELSE
        v_target := data_max::numeric + increment + v_dir * coalesce(_sequence_state.margin, 0);
        -- Data below MINVALUE (ascending) needs no move past it: MINVALUE is already ahead.
        v_target := CASE WHEN v_dir > 0 THEN greatest(v_target, v_seqmin) ELSE least(v_target, v_seqmax) END;
        v_reach := CASE WHEN v_dir > 0 THEN greatest(v_next, data_max::numeric + increment)
                        ELSE least(v_next, data_max::numeric + increment) END;
    END IF;
    target := CASE WHEN v_target BETWEEN v_seqmin AND v_seqmax THEN v_target::bigint END;

    v_near := CASE WHEN v_dir > 0 THEN v_high - v_reach ELSE v_reach - v_low END < (v_high - v_low) / 10;
    status := CASE
        WHEN data_max IS NOT NULL AND v_dir * (v_next - data_max) <= 0 THEN 'behind'
        WHEN v_near THEN 'near_limit'
        WHEN data_max IS NULL THEN 'empty'
        WHEN v_dir * (v_next - data_max - increment) > 0 THEN 'ahead'
        ELSE 'ok'
    END;
END
$$;

COMMENT ON FUNCTION idsql._sequence_state(regclass, regclass[], name[], regtype[], bigint) IS
'Compare a sequence with the data of its columns: data max in its direction, next value, fix target and status.';

-- sequence_repair/functions/_lock_sequence_tables.sql
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

-- sequence_repair/functions/_outside_transaction_block.sql
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

-- sequence_repair/functions/_check_fix_arguments.sql
CREATE OR REPLACE FUNCTION idsql._check_fix_arguments(margin bigint, allow_backward boolean, dry_run boolean)
    RETURNS void
    LANGUAGE plpgsql
    STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Reject arguments a fix cannot honour, before anything is locked. A fix
 * reads the max after locking; under REPEATABLE READ or SERIALIZABLE the
 * snapshot predates the lock, so rows committed meanwhile would be missed and
 * the fix could leave the sequence behind. A dry run changes nothing, so any
 * isolation level will do.
 */
BEGIN
    IF _check_fix_arguments.margin IS NULL OR _check_fix_arguments.margin < 0 THEN
        RAISE EXCEPTION 'invalid margin "%"', coalesce(_check_fix_arguments.margin::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The margin is how many values to leave unused past the data.',
                  HINT = 'Pass 0 (the default) or a positive number.';
    END IF;
    IF _check_fix_arguments.allow_backward IS NULL OR _check_fix_arguments.dry_run IS NULL THEN
        RAISE EXCEPTION 'allow_backward and dry_run must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass true or false, or leave them out for the default (false).';
    END IF;
    IF NOT _check_fix_arguments.dry_run
       AND current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION 'sequence repair needs READ COMMITTED isolation'
            USING ERRCODE = 'ID203',  -- needs_read_committed
                  DETAIL = format('The transaction runs at %s; its snapshot predates the table locks.',
                                  upper(current_setting('transaction_isolation'))),
                  HINT = 'Run the fix in a READ COMMITTED transaction (the default), or in autocommit mode.';
    END IF;
END
$$;

COMMENT ON FUNCTION idsql._check_fix_arguments(bigint, boolean, boolean) IS
'Validate margin, allow_backward and dry_run of a sequence fix, and require READ COMMITTED unless dry_run.';

-- sequence_repair/functions/_fix_summary.sql
CREATE OR REPLACE FUNCTION idsql._fix_summary(fixed integer, dry_run boolean)
    RETURNS text
    LANGUAGE sql
    IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The last line of a fix_all_sequences run, in the original runbook's words.
 */
    SELECT CASE WHEN _fix_summary.dry_run
                THEN format('Dry run: would fix %s sequence(s)', _fix_summary.fixed)
                ELSE format('Successfully fixed %s sequence(s)!', _fix_summary.fixed) END
$$;

COMMENT ON FUNCTION idsql._fix_summary(integer, boolean) IS
'Summary line of fix_all_sequences: Successfully fixed N sequence(s)!';

-- sequence_repair/functions/_fix_sequence_group.sql
CREATE OR REPLACE FUNCTION idsql._fix_sequence_group(
    seq regclass,
    tables regclass[],
    columns name[],
    column_types regtype[],
    label text,
    margin bigint,
    allow_backward boolean,
    dry_run boolean,
    OUT data_max bigint,
    OUT previous_next bigint,
    OUT next_value bigint,
    OUT status text,
    OUT action text,
    OUT fixed integer,
    OUT notice text,
    OUT warning text
)
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Fix one sequence and say what was done, for fix_all_sequences and
 * fix_all_sequences_report. Locks its tables first (see
 * _lock_sequence_tables), then reads the max and moves the sequence: forward
 * whenever the target is ahead of it, backward only with allow_backward. A
 * dry run locks nothing and changes nothing. action is fixed, would_fix,
 * unchanged, skipped_locked or out_of_range; notice is the report line in the
 * original runbook's format, warning a line for what could not be done.
 */
DECLARE
    v_label text := _fix_sequence_group.label;
    v_blocked regclass;
    v_state record;
BEGIN
    fixed := 0;
    IF NOT _fix_sequence_group.dry_run THEN
        v_blocked := idsql._lock_sequence_tables(_fix_sequence_group.tables);
        IF v_blocked IS NOT NULL THEN
            action := 'skipped_locked';
            warning := format('Skipped %s sequence: could not lock table %s within lock_timeout (%s)',
                              v_label, v_blocked, current_setting('lock_timeout'));
            RETURN;
        END IF;
    END IF;
    v_state := idsql._sequence_state(_fix_sequence_group.seq, _fix_sequence_group.tables,
                                     _fix_sequence_group.columns, _fix_sequence_group.column_types,
                                     _fix_sequence_group.margin);
    data_max := v_state.data_max;
    previous_next := v_state.next_value;
    next_value := v_state.next_value;
    status := v_state.status;
    IF v_state.target IS NULL THEN
        action := 'out_of_range';
        warning := format('Cannot fix %s sequence (max: %s): the next value would pass its limit',
                          v_label, v_state.data_max);
        RETURN;
    END IF;
    IF v_state.target IS NOT DISTINCT FROM v_state.next_value
       OR NOT (coalesce(sign(v_state.increment) * (v_state.target::numeric - v_state.next_value) > 0, false)
               OR _fix_sequence_group.allow_backward) THEN
        action := 'unchanged';
        RETURN;
    END IF;
    IF NOT _fix_sequence_group.dry_run THEN
        PERFORM setval(_fix_sequence_group.seq, v_state.target, false);
    END IF;
    next_value := v_state.target;
    action := CASE WHEN _fix_sequence_group.dry_run THEN 'would_fix' ELSE 'fixed' END;
    fixed := 1;
    notice := format('%s %s sequence (max: %s, next: %s)',
                     CASE WHEN _fix_sequence_group.dry_run THEN 'Would fix' ELSE 'Fixed' END,
                     v_label, coalesce(v_state.data_max::text, 'none'), v_state.target);
END
$$;

COMMENT ON FUNCTION idsql._fix_sequence_group(regclass, regclass[], name[], regtype[], text, bigint, boolean, boolean) IS
'Lock the tables of one sequence, move it past their data, and return what was done with its report line.';

-- sequence_repair/functions/sequence_report.sql
CREATE OR REPLACE FUNCTION idsql.sequence_report(schemas name[] DEFAULT null)
    RETURNS TABLE (
        table_name regclass,
        column_name name,
        sequence_name regclass,
        kind text,
        data_max bigint,
        last_value bigint,
        is_called boolean,
        next_value bigint,
        status text
    )
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Read-only drift report: one row per column that draws from a sequence, in
 * `schemas` (NULL: every user schema). kind is serial, identity or default (a
 * DEFAULT calling nextval on a sequence the column does not own). data_max is
 * the data's extreme in the sequence's direction (min() for a descending one),
 * across every column sharing the sequence, so each of them shows the
 * sequence's real state. next_value is what nextval would return (NULL when
 * exhausted). status: behind (inserts will collide), near_limit (under 10% of
 * the range left), empty, ahead, ok. Takes no locks beyond reading; VOLATILE
 * because it reads sequences, which do not follow snapshots.
 */
DECLARE
    v_group record;
    v_state record;
BEGIN
    FOR v_group IN SELECT * FROM idsql._sequence_groups(sequence_report.schemas) LOOP
        v_state := idsql._sequence_state(v_group.sequence_name, v_group.tables, v_group.columns,
                                         v_group.column_types, 0::bigint);
        FOR i IN 1 .. cardinality(v_group.tables) LOOP
            CONTINUE WHEN NOT idsql._in_schemas(v_group.tables[i], sequence_report.schemas);
            table_name := v_group.tables[i];
            column_name := v_group.columns[i];
            sequence_name := v_group.sequence_name;
            kind := v_group.kinds[i];
            data_max := v_state.data_max;
            last_value := v_state.last_value;
            is_called := v_state.is_called;
            next_value := v_state.next_value;
            status := v_state.status;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.sequence_report(name[]) IS
'Drift report: per column on a sequence, its kind, the data max, last_value, is_called, next value and status.';

-- sequence_repair/functions/fix_sequence.sql
CREATE OR REPLACE FUNCTION idsql.fix_sequence(
    tbl regclass,
    col name,
    margin bigint DEFAULT 0,
    allow_backward boolean DEFAULT false
)
    RETURNS bigint
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * The one-table manual fix: find the sequence tbl.col draws from (through the
 * catalog), lock every table that shares it, and move it one increment (plus
 * margin) past their data, or to START when they are empty. Forward only
 * unless allow_backward. Returns the value the next nextval will give. A
 * table it cannot lock within lock_timeout raises 55P03, as LOCK does.
 */
DECLARE
    v_seq regclass;
    v_group record;
    v_fix record;
    v_is_partition boolean;
BEGIN
    PERFORM idsql._check_fix_arguments(fix_sequence.margin, fix_sequence.allow_backward, false);
    IF fix_sequence.tbl IS NULL OR fix_sequence.col IS NULL THEN
        RAISE EXCEPTION 'tbl and col must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the table and its column, e.g. fix_sequence(''"user"'', ''user_id'').';
    END IF;
    PERFORM FROM pg_attribute AS a
     WHERE a.attrelid = fix_sequence.tbl AND a.attname = fix_sequence.col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation "%" does not exist', fix_sequence.col, fix_sequence.tbl
            USING ERRCODE = 'undefined_column',
                  HINT = 'Pass the name of the column whose sequence is behind, as the catalog spells it.';
    END IF;
    SELECT c.sequence_name INTO v_seq
      FROM idsql._sequence_columns() AS c
     WHERE c.table_name = fix_sequence.tbl AND c.column_name = fix_sequence.col;
    IF v_seq IS NULL THEN
        SELECT c.relispartition INTO v_is_partition FROM pg_class AS c WHERE c.oid = fix_sequence.tbl;
        RAISE EXCEPTION 'column "%" of relation "%" draws from no sequence', fix_sequence.col, fix_sequence.tbl
            USING ERRCODE = 'ID201',  -- no_sequence
                  DETAIL = CASE WHEN v_is_partition
                                THEN 'The table is a partition; its sequence belongs to the partitioned table.'
                                ELSE 'It is not serial or identity, and its DEFAULT calls no nextval.' END,
                  HINT = CASE WHEN v_is_partition
                              THEN 'Pass the partitioned table: its max covers every partition.'
                              ELSE 'Pass a serial or identity column, or one whose DEFAULT calls nextval.' END;
    END IF;
    SELECT * INTO STRICT v_group FROM idsql._sequence_groups(null) AS g WHERE g.sequence_name = v_seq;
    v_fix := idsql._fix_sequence_group(v_seq, v_group.tables, v_group.columns, v_group.column_types,
                                       v_group.label, fix_sequence.margin, fix_sequence.allow_backward, false);
    IF v_fix.action = 'skipped_locked' THEN
        RAISE EXCEPTION 'could not lock the tables of sequence % within lock_timeout', v_seq
            USING ERRCODE = 'lock_not_available',
                  DETAIL = v_fix.warning,
                  HINT = 'Retry when the writers are done, or raise lock_timeout.';
    END IF;
    IF v_fix.action = 'out_of_range' THEN
        RAISE EXCEPTION 'sequence % cannot go past the data of %.%', v_seq, fix_sequence.tbl, fix_sequence.col
            USING ERRCODE = 'ID202',  -- sequence_out_of_range
                  DETAIL = format('The data reaches %s; one more value would pass the sequence''s limit.',
                                  v_fix.data_max),
                  HINT = 'Widen the sequence with ALTER SEQUENCE ... AS bigint MAXVALUE ..., or remove the rows at the limit.';
    END IF;
    RETURN v_fix.next_value;
END
$$;

COMMENT ON FUNCTION idsql.fix_sequence(regclass, name, bigint, boolean) IS
'Move the sequence of tbl.col past the data of every column sharing it; return what the next nextval gives.';

-- sequence_repair/functions/fix_all_sequences_report.sql
CREATE OR REPLACE FUNCTION idsql.fix_all_sequences_report(
    schemas name[] DEFAULT null,
    margin bigint DEFAULT 0,
    allow_backward boolean DEFAULT false,
    dry_run boolean DEFAULT false
)
    RETURNS TABLE (
        table_name regclass,
        column_name name,
        sequence_name regclass,
        kind text,
        data_max bigint,
        previous_next bigint,
        next_value bigint,
        status text,
        action text
    )
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * fix_all_sequences as a function: the same work, sequence by sequence, in the
 * caller's transaction (locks are held until it ends: size
 * max_locks_per_transaction for very many tables, or use the procedure).
 * Returns one row per column in schemas: status is what the report said before the fix,
 * action what was done (fixed, would_fix, unchanged, skipped_locked,
 * out_of_range), previous_next and next_value the next value before and after.
 * A table it cannot lock within lock_timeout is reported, not raised, and the
 * other sequences are still fixed.
 */
DECLARE
    v_group record;
    v_fix record;
BEGIN
    PERFORM idsql._check_fix_arguments(fix_all_sequences_report.margin, fix_all_sequences_report.allow_backward,
                                       fix_all_sequences_report.dry_run);
    FOR v_group IN SELECT * FROM idsql._sequence_groups(fix_all_sequences_report.schemas) LOOP
        v_fix := idsql._fix_sequence_group(v_group.sequence_name, v_group.tables, v_group.columns,
                                           v_group.column_types, v_group.label, fix_all_sequences_report.margin,
                                           fix_all_sequences_report.allow_backward, fix_all_sequences_report.dry_run);
        FOR i IN 1 .. cardinality(v_group.tables) LOOP
            -- Rows for the columns in schemas, as sequence_report lists them; the fix covered all.
            CONTINUE WHEN NOT idsql._in_schemas(v_group.tables[i], fix_all_sequences_report.schemas);
            table_name := v_group.tables[i];
            column_name := v_group.columns[i];
            sequence_name := v_group.sequence_name;
            kind := v_group.kinds[i];
            data_max := v_fix.data_max;
            previous_next := v_fix.previous_next;
            next_value := v_fix.next_value;
            status := v_fix.status;
            action := v_fix.action;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;

COMMENT ON FUNCTION idsql.fix_all_sequences_report(name[], bigint, boolean, boolean) IS
'Fix every sequence behind its data in the caller''s transaction; one row per column with its status and action.';

-- sequence_repair/procedures/fix_all_sequences.sql
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

-- privileges/functions/grant_access.sql
CREATE OR REPLACE FUNCTION idsql.grant_access(grantee regrole, admin boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
/*
 * Let a role use idsql. Usage: generate and read IDs, draw table IDs of
 * registered tables, negotiate IDs and work the sync queue, write tables
 * under state versions and read their history. Administration (admin =>
 * true) adds the functions whose EXECUTE is revoked from PUBLIC (reset,
 * configure, sync and register counters, fix sequences, set strategies,
 * enable or disable late references and state versions, prune history,
 * grant_access itself), every privilege on idsql's tables and sequences, and
 * CREATE on the schema (registering a table or a fast prefix creates a
 * sequence, state versions create trigger functions).
 *
 * Usage never includes writing a counter: generate_id and bulk_generate_ids
 * run with their owner's rights, and sequences get USAGE, not UPDATE. Objects
 * created later get the same grants (_share_sequence). Only the owner of
 * idsql's objects (or a role with the grant option) can run it.
 */
DECLARE
    v_role text := grant_access.grantee::text;  -- regrole output: quoted as needed
BEGIN
    IF grant_access.grantee IS NULL OR grant_access.admin IS NULL THEN
        RAISE EXCEPTION 'grantee and admin must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name an existing role, for example grant_access(''app_user'').';
    END IF;
    -- '-' and bare numbers pass as regrole without naming a role; their text is no role name.
    IF NOT EXISTS (SELECT FROM pg_roles AS r WHERE r.oid = grant_access.grantee) THEN
        RAISE EXCEPTION 'role with OID % does not exist', grant_access.grantee::oid
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name an existing role, for example grant_access(''app_user'').';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA idsql TO %s', v_role);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA idsql TO %s', v_role);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA idsql TO %s', v_role);
    -- ID negotiation and the sync queue keep their state in these tables.
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON idsql.temp_id, idsql.id_mapping, idsql.id_change_log, '
                   'idsql.sync_queue TO %s', v_role);
    -- Triggers of tables under state versions write the history as the writing role.
    EXECUTE format('GRANT INSERT ON idsql.row_version TO %s', v_role);
    -- insert_with_retry counts the IDs it found taken.
    EXECUTE format('GRANT UPDATE (conflicts) ON idsql.table_counter TO %s', v_role);
    IF grant_access.admin THEN
        EXECUTE format('GRANT CREATE ON SCHEMA idsql TO %s', v_role);
        EXECUTE format('GRANT ALL ON ALL TABLES IN SCHEMA idsql TO %s', v_role);
        EXECUTE format('GRANT ALL ON ALL SEQUENCES IN SCHEMA idsql TO %s', v_role);
        EXECUTE format('GRANT EXECUTE ON ALL ROUTINES IN SCHEMA idsql TO %s', v_role);
    END IF;
END
$$;

COMMENT ON FUNCTION idsql.grant_access(regrole, boolean) IS
'Let a role generate and read IDs (usage), or also administer idsql (admin => true): the privilege model of docs/privileges.md.';

-- privileges/grants.sql
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

-- state_versions/refresh_enabled_tables.sql
-- Tables enabled for state versions under an older idsql get the triggers this version generates.
DO $$
BEGIN
    PERFORM idsql._state_version_refresh();
END
$$;

-- record what is installed
INSERT INTO idsql.installation AS i (singleton, version, channel)
VALUES (true, '0.2.0', 'psql')
ON CONFLICT (singleton) DO UPDATE
    SET version = excluded.version, upgraded_at = now();
