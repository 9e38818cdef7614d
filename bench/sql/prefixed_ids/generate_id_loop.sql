SELECT count(idsql.generate_id('ONE')) FROM generate_series(1, :n);
