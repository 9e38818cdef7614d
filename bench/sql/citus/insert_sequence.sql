-- The reference: a distributed INSERT whose key DEFAULT is a bare sequence.
INSERT INTO bench_order_seq (v) VALUES (1);
