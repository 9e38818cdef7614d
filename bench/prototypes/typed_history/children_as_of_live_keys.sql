-- children_as_of of the bench's 'asof' session at version 50 over a typed copy of sv_entity's
-- history, with the keys taken from the live table plus the rows that left the session after the
-- version (docs/design/typed-history.md). Run after the bench's setup and its 99 updates of the
-- 'asof' session, then: pgbench -n -M prepared -c 1 -T 5 -f children_as_of_live_keys.sql
-- (the setup below is in the comment at the end).
SELECT count(*) FROM (
    SELECT jsonb_build_object('entity_id', v.entity_id, 'session_id', 'asof', 'name', v.name,
                              'state_version', v.state_version) AS row_data
      FROM (SELECT e.entity_id FROM sv_entity AS e WHERE e.session_id = 'asof'
            UNION
            SELECT h.entity_id FROM sv_entity_history AS h
             WHERE h.session_id = 'asof' AND h._op IN ('DELETE', 'MOVE') AND h._parent_version > 50) AS k
     CROSS JOIN LATERAL (
           SELECT h.entity_id, h.name, h.state_version, h._op FROM sv_entity_history AS h
            WHERE h.session_id = 'asof' AND h.entity_id = k.entity_id AND h._parent_version <= 50
            ORDER BY h._parent_version DESC, h._id DESC LIMIT 1) AS v
     WHERE v._op NOT IN ('DELETE', 'MOVE')
     ORDER BY v.entity_id) AS x;
-- Setup, once:
-- CREATE TABLE sv_entity_history (_id bigint NOT NULL, _op text NOT NULL, _parent_version bigint,
--     _changed_at timestamptz NOT NULL, _xid xid8 NOT NULL,
--     entity_id integer, session_id text, name text, state_version bigint);
-- INSERT INTO sv_entity_history SELECT h.id, h.operation, h.parent_version, h.changed_at, h.xid, r.*
--   FROM idsql.row_version AS h CROSS JOIN LATERAL jsonb_populate_record(NULL::sv_entity, h.row_data) AS r
--  WHERE h.tbl = 'sv_entity'::regclass;
-- CREATE INDEX ON sv_entity_history (session_id, entity_id, _parent_version DESC, _id DESC)
--     INCLUDE (_op, name, state_version);
-- CREATE INDEX ON sv_entity_history (session_id, _parent_version) WHERE _op IN ('DELETE', 'MOVE');
-- CREATE INDEX ON sv_entity (session_id);
