#!/usr/bin/env bash
# CPU per single-row UPDATE, 20,000 of them in one transaction (no commit in the figure), for
# each design in rounds. Usage: cpu_per_statement.sh <psql connection options>
set -euo pipefail
for round in 1 2 3 4; do
    for t in keyed typed heal hist ver; do
        psql "$@" -qAt -c "DO \$\$ DECLARE s timestamptz := clock_timestamp(); BEGIN
            FOR i IN 1..20000 LOOP UPDATE sv_$t SET n = n + 1 WHERE id = ((i * 7919 + $round * 31) % 100000) + 1; END LOOP;
            RAISE NOTICE '$t % us/statement', round(extract(epoch FROM clock_timestamp() - s) * 1e6 / 20000, 1); END \$\$" 2>&1
    done
done
