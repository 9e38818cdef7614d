SELECT idsql.next_id('bench_next');
