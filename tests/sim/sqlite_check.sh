#!/bin/sh
# Every guarantee holds on the SQLite store, and the decisions are the same
# as with the memory store (same seeds, same JSON).
# usage: sqlite_check.sh CONCORD SCRATCH_DIR RUNS
set -u
concord=$1 dir=$2 runs=$3
db=$dir/sim-check.$$.db
trap 'rm -f "$db" "$db-wal" "$db-shm"' EXIT
here=$(dirname "$0")
"$here/check.sh" "$concord" clean --runs "$runs" --faults all --store "sqlite:$db" || exit 1
a=$("$concord" sim --runs 10 --faults all --json | tail -n 1)
b=$("$concord" sim --runs 10 --faults all --store "sqlite:$db" --json | tail -n 1)
[ "$a" = "$b" ] || { echo "FAIL: SQLite and memory stores decided differently"; echo "$a"; echo "$b"; exit 1; }
echo ok
