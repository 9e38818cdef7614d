\set id random(1, 100000)
UPDATE sv_plain SET n = n WHERE id = :id;
