-- Prepare the coordinator for bench/citus.py: run after installing idsql (pyidsql install).
-- Distributed tables that differ only in the DEFAULT of their key: idsql's fast and gapless
-- prefixed IDs against a bare sequence, each INSERT routed to the shard of its new key.
CREATE TABLE IF NOT EXISTS bench_order_fast (id text PRIMARY KEY DEFAULT idsql.generate_id('DFS'), v integer);
CREATE TABLE IF NOT EXISTS bench_order_gapless (id text PRIMARY KEY DEFAULT idsql.generate_id('DGL'), v integer);
CREATE TABLE IF NOT EXISTS bench_order_seq (id bigserial PRIMARY KEY, v integer);
SELECT idsql.configure_prefix('DFS', 'fast');
SELECT idsql.configure_prefix('DGL', 'gapless');
SELECT create_distributed_table(t, 'id')
FROM unnest(ARRAY['bench_order_fast', 'bench_order_gapless', 'bench_order_seq']) AS t
WHERE NOT EXISTS (
    SELECT FROM pg_dist_partition
    WHERE logicalrelid = t::regclass
);
