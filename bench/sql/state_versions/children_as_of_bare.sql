SELECT count(*) FROM idsql.children_as_of('sv_entity_bare', '{"session_id": "bare"}', 50);
