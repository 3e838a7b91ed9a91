#!/bin/sh
# A seed replays exactly: the same arguments print the same bytes.
set -eu
concord=$1
a=$("$concord" sim --seed 42 --runs 3 --faults all --json)
b=$("$concord" sim --seed 42 --runs 3 --faults all --json)
[ "$a" = "$b" ] || { echo "FAIL: two runs of seed 42 differ"; exit 1; }
n=$("$concord" sim --seed 42 --runs 1 --faults all --narrate | md5sum)
m=$("$concord" sim --seed 42 --runs 1 --faults all --narrate | md5sum)
[ "$n" = "$m" ] || { echo "FAIL: two narrations of seed 42 differ"; exit 1; }
# torn reads make seeds fail (exit status 1): only the bytes matter here
t=$("$concord" sim --seed 42 --runs 3 --faults all,torn --json || true)
u=$("$concord" sim --seed 42 --runs 3 --faults all,torn --json || true)
[ "$t" = "$u" ] || { echo "FAIL: two runs of seed 42 with torn reads differ"; exit 1; }
echo ok
