#!/bin/sh
# The crash test: the hub runs in a child process over a SQLite store and is
# killed with SIGKILL at every named crash point and at random (concord sim
# --model process); the virtual systems live in the parent and survive.
# Checks that every run is clean (as check.sh clean: converged, no lost
# update, no duplicate, no loop, no oscillation, nothing written while
# quiet), that the kills add up to at least MIN_KILLS, and that every named
# point and "random" killed the hub at least once.
# usage: kill_test.sh CONCORD MIN_KILLS [sim options...]
set -u
concord=$1 min_kills=$2
shift 2
dir=$(mktemp -d "${TMPDIR:-/tmp}/concord-kill.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
started=$(date +%s)
out=$("$concord" sim --model process --store "sqlite:$dir/kill.db" "$@" --json)
rc=$?
elapsed=$(( $(date +%s) - started ))
json=$(printf '%s\n' "$out" | tail -n 1)
printf '%s\n' "$out" | grep -v '^{' | tail -n 40
printf '%s\n' "$json"
echo "wall-clock time: ${elapsed} s"
field() { printf '%s' "$json" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
runs=$(field runs)
conv=$(field converged)
systems=$(field systems)
wpc=$(field writes_per_change)
total=$(field kills_total)
failed=$(printf '%s' "$json" | sed -n 's/.*"failed_seeds":\[\([^]]*\)\].*/\1/p')
[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
[ -n "$runs" ] && [ "$conv" = "$runs" ] || { echo "FAIL: converged $conv of $runs"; exit 1; }
for k in lost_updates duplicates duplicate_comments oscillations loop_writes quiet_writes; do
	[ "$(field $k)" = "0" ] || { echo "FAIL: $k = $(field $k)"; exit 1; }
done
[ -z "$failed" ] || { echo "FAIL: failed seeds $failed"; exit 1; }
awk -v w="$wpc" -v s="$systems" 'BEGIN { exit !(w <= s - 1) }' ||
	{ echo "FAIL: writes_per_change $wpc > systems - 1"; exit 1; }
[ -n "$total" ] && [ "$total" -ge "$min_kills" ] ||
	{ echo "FAIL: $total kills, fewer than $min_kills"; exit 1; }
for p in ingest-journaled ingest-before-commit batch-middle poll-before-cursor \
	deliver-intent-committed deliver-after-remote-write deliver-after-create \
	comment-after-remote random; do
	n=$(printf '%s' "$json" | sed -n "s/.*\"$p\":\([0-9]*\).*/\1/p")
	[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "FAIL: no kill at $p"; exit 1; }
done
echo "ok: $total kills"
