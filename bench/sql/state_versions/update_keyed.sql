\set id random(1, 100000)
UPDATE sv_keyed SET n = n + 1 WHERE id = :id;
