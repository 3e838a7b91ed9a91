#!/bin/sh
# Runs `concord sim` and checks its JSON line against the guarantees.
# usage: check.sh CONCORD EXPECT [sim options...]
#   EXPECT=clean     every run converged, no failure of any kind (no write
#                    while a conflict waits for a person either),
#                    writes_per_change <= systems - 1
#   EXPECT=queue     clean, and people saw conflicts parked and resolved them
#   EXPECT=failures  the run must report failed seeds (the oracle sees them)
set -u
concord=$1 expect=$2
shift 2
out=$("$concord" sim "$@" --json)
rc=$?
json=$(printf '%s\n' "$out" | tail -n 1)
printf '%s\n' "$out" | tail -n 4
field() { printf '%s' "$json" | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
runs=$(field runs)
conv=$(field converged)
systems=$(field systems)
wpc=$(field writes_per_change)
failed=$(printf '%s' "$json" | sed -n 's/.*"failed_seeds":\[\([^]]*\)\].*/\1/p')
case $expect in
clean|queue)
	[ "$rc" -eq 0 ] || { echo "FAIL: exit status $rc"; exit 1; }
	[ "$conv" = "$runs" ] || { echo "FAIL: converged $conv of $runs"; exit 1; }
	for k in lost_updates duplicates duplicate_comments oscillations loop_writes quiet_writes \
	         parked_writes; do
		[ "$(field $k)" = "0" ] || { echo "FAIL: $k = $(field $k)"; exit 1; }
	done
	[ -z "$failed" ] || { echo "FAIL: failed seeds $failed"; exit 1; }
	awk -v w="$wpc" -v s="$systems" 'BEGIN { exit !(w <= s - 1) }' ||
		{ echo "FAIL: writes_per_change $wpc > systems - 1"; exit 1; }
	if [ "$expect" = queue ]; then
		for k in parked resolved; do
			[ "$(field $k)" -gt 0 ] 2>/dev/null || { echo "FAIL: $k = '$(field $k)'"; exit 1; }
		done
	fi
	;;
failures)
	[ -n "$failed" ] || { echo "FAIL: no failure reported"; exit 1; }
	;;
*)
	echo "unknown expectation $expect"; exit 2 ;;
esac
echo "ok"
