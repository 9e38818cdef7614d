#!/usr/bin/env bash
# Prune 5 of 10 days of a 10,000,000-entry typed history while 4 writers run, by DELETE or by
# dropping partitions. Usage: retention_run.sh delete|drop <psql connection options>
# Run retention_setup.sql first (again before each run; it takes about a minute).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(mktemp -d)"
how="$1"
shift
size="SELECT pg_size_pretty(sum(pg_total_relation_size(i.inhrelid))), (SELECT count(*) FROM rt_history)
        FROM pg_inherits AS i WHERE i.inhparent = 'rt_history'::regclass"
echo "before: $(psql "$@" -qAt -c "$size")"
pgbench -n -M prepared -c 4 -j 2 -T 40 -P 2 -f "$HERE/update_rt.sql" "$@" > "$OUT/pgbench" 2> "$OUT/progress" &
sleep 10
psql "$@" -f "$HERE/prune_$how.sql"
wait
echo "after: $(psql "$@" -qAt -c "$size")"
grep -o 'progress: [0-9.]* s, [0-9.]* tps' "$OUT/progress"
grep -E 'tps|latency|failed' "$OUT/pgbench"
