-- Prepare a database for bench/prefixed_ids.py: run after installing idsql (pyidsql install).
-- The references are the bare statements the spec compares idsql against.
CREATE TABLE IF NOT EXISTS bench_counter (k integer PRIMARY KEY, v bigint NOT NULL);
INSERT INTO bench_counter (k, v) VALUES (1, 0) ON CONFLICT (k) DO NOTHING;
CREATE SEQUENCE IF NOT EXISTS bench_seq;
-- Create every prefix up front so no run measures a prefix's first use.
SELECT idsql.configure_prefix('CUS', 'gapless');
SELECT idsql.configure_prefix('FST', 'fast');
SELECT idsql.configure_prefix('INV', 'gapless');
SELECT idsql.configure_prefix('ONE', 'gapless');
