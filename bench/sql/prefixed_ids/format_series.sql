SELECT sum(length(id)) FROM (SELECT 'INV-' || lpad(g::text, 7, '0') AS id FROM generate_series(1, :n) AS g) AS s;
