SELECT sum(length(id)) FROM idsql.bulk_generate_ids('INV', :n) AS id;
