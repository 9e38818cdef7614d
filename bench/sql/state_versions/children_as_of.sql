SELECT count(*) FROM idsql.children_as_of('sv_entity', '{"session_id": "asof"}', 50);
