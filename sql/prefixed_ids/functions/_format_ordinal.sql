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
