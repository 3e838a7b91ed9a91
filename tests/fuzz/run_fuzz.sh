#!/bin/sh
# run_fuzz.sh FUZZER SEED_DIR DICT -- replays a harness's seed corpus as
# regression cases, then fuzzes from it for $FUZZ_SECONDS (default 8) with
# the dictionary. New inputs go to $FUZZ_OUT/NAME when FUZZ_OUT is set
# (`make fuzz` keeps them), else to a temporary directory; crashes, leaks,
# timeouts and out-of-memory inputs to $FUZZ_OUT/NAME-crashes (default: a
# fuzz-crashes directory beside the harness). Exit 0, or 1 when the run
# left such a file (its path is printed: replay it with `FUZZER FILE`).
set -u
fuzzer=$1
seeds=$2
dict=$3
secs=${FUZZ_SECONDS:-8}
name=$(basename "$fuzzer")
base=${FUZZ_OUT:-$(dirname "$fuzzer")/fuzz-crashes}
crashes=$base/$name-crashes
rm -rf "$crashes"
mkdir -p "$crashes"
if [ -n "${FUZZ_OUT:-}" ]; then
	out=$FUZZ_OUT/$name
	mkdir -p "$out"
	tmp=
else
	tmp=$(mktemp -d)
	out=$tmp
fi
dict_arg=
[ -f "$dict" ] && dict_arg=-dict=$dict
# rss_limit_mb and timeout: a parser must stay within bounds on any input
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
	-artifact_prefix="$crashes/" $dict_arg "$out" "$seeds" 2>&1 |
	grep -E "INITED|DONE|stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Test unit written|^==" |
	tail -n 12
[ -n "$tmp" ] && rm -rf "$tmp"
found=$(ls "$crashes" 2>/dev/null)
if [ -n "$found" ]; then
	echo "$name: found $(echo "$found" | wc -l) failing input(s) in $crashes:"
	echo "$found" | sed "s|^|  $crashes/|"
	exit 1
fi
rmdir "$crashes" 2>/dev/null
exit 0
