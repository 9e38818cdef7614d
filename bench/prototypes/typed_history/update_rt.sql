\set id random(1, 100000)
UPDATE rt SET n = n + 1 WHERE id = :id;
