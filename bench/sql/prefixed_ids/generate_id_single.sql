SELECT idsql.generate_id('ONE');
