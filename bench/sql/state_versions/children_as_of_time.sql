SELECT count(*) FROM idsql.children_as_of_time('sv_entity', '{"session_id": "asof"}', (SELECT a.at FROM sv_asof_at AS a));
