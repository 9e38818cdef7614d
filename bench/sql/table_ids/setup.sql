-- Prepare a database for the next_id rows of bench/table_ids.py: run after installing idsql.
-- 1,000 rows, so that max(id) reads a real index; next_id() itself inserts nothing.
CREATE TABLE IF NOT EXISTS bench_next (id bigint PRIMARY KEY);
INSERT INTO bench_next (id) SELECT g FROM generate_series(1, 1000) AS g ON CONFLICT (id) DO NOTHING;
SELECT idsql.initialize_table('bench_next');
-- The table's sequence, for the reference: pgbench -D seq=<this OID>.
SELECT seq::oid AS seq FROM idsql.table_counter WHERE table_name = 'bench_next'::regclass;
