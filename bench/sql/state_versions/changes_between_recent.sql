SELECT count(*) FROM idsql.changes_between('sv_session', '{"session_id": "asof"}', 99, 100);
