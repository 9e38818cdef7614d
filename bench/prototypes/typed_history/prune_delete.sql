\timing on
DELETE FROM rt_history WHERE _changed_at < date_trunc('day', now()) - interval '5 days';
