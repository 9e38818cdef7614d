-- A distributed INSERT whose key DEFAULT is a gapless prefixed ID.
INSERT INTO bench_order_gapless (v) VALUES (1);
