-- Bare nextval() on the sequence idsql registered for bench_next (its OID: -D seq=..., see setup.sql).
SELECT nextval(:seq::oid::regclass);
