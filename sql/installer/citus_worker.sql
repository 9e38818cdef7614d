-- Run on each Citus worker by pyidsql install (prepare_citus_workers): every idsql function there
-- that reads or writes idsql's state calls this, and the caller learns where to go instead.
CREATE OR REPLACE FUNCTION idsql._refuse_on_worker(fn text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $b$
DECLARE
    v_coordinator text;
BEGIN
    SELECT format('%s:%s', n.nodename, n.nodeport) INTO v_coordinator
    FROM pg_catalog.pg_dist_node AS n WHERE n.groupid = 0 AND n.noderole = 'primary' LIMIT 1;
    RAISE EXCEPTION 'idsql.% runs on the Citus coordinator only', fn
        USING ERRCODE = 'ID903',  -- not_on_coordinator
              DETAIL = format('This node is a worker. The counters, mappings and catalog of idsql are on the '
                              'coordinator (%s); a call here would need a second counter.',
                              coalesce(v_coordinator, 'not in this node''s metadata')),
              HINT = 'Connect to the coordinator to call it. An INSERT through the coordinator evaluates a '
                     'DEFAULT that calls idsql there.';
END
$b$;
