-- A distributed INSERT whose key DEFAULT is a fast prefixed ID.
INSERT INTO bench_order_fast (v) VALUES (1);
