INSERT INTO bench_counter (k, v) VALUES (1, 1) ON CONFLICT (k) DO UPDATE SET v = bench_counter.v + 1 RETURNING idsql.format_id('CUS', v);
