\timing on
SET lock_timeout = '100ms';
BEGIN;
-- the last entry of each row before the cut, as of the cut (what as-of reads between the cut and the row's next change need)
INSERT INTO rt_history (_op, _changed_at, _xid, id, state_version, n, payload)
SELECT DISTINCT ON (h.id) 'B', date_trunc('day', now()) - interval '5 days', h._xid, h.id, h.state_version, h.n, h.payload
  FROM rt_history AS h
 WHERE h._changed_at < date_trunc('day', now()) - interval '5 days'
 ORDER BY h.id, h._id DESC;
DROP TABLE rt_history_d0, rt_history_d1, rt_history_d2, rt_history_d3, rt_history_d4;
COMMIT;
