SELECT count(*) FROM idsql.changes_between('sv_session', '{"session_id": "diff"}', 1, 2);
