SELECT idsql.generate_id('CUS');
