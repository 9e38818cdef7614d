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
