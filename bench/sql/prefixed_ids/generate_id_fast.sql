SELECT idsql.generate_id('FST');
