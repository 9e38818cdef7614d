\set id random(1, 100000)
UPDATE sv_ver SET n = n WHERE id = :id;
