\set id random(1, 100000)
UPDATE sv_hist SET n = n WHERE id = :id;
