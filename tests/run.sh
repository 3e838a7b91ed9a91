#!/bin/sh
# Runs everything CI runs: the unit, simulation, daemon and integration
# suites in a normal build and again under AddressSanitizer +
# UndefinedBehaviorSanitizer, then the fuzzers' corpora and a short fuzzing
# run (clang, libFuzzer). Ends with the line "N passed, N failed, N skipped";
# exits non-zero when anything failed.
set -u
build=${1:-build}
asan=${2:-build-asan}
fuzz=${3:-}
passed=0
failed=0
skipped=0
# What failed, said again just above the last line, where a CI log's tail
# shows it.
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT

run_suite() { # dir label [meson test options]
	dir=$1
	label=$2
	shift 2
	if ! ninja -C "$dir" >"$dir/build-output.txt" 2>&1; then
		grep -E "error|FAILED" "$dir/build-output.txt" | head -n 20 | sed "s/^/[$label] why: /"
		echo "BUILD FAILED in $dir" | tee -a "$failures"
		failed=$((failed + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" >"$dir/test-output.txt" 2>&1
	grep -E "^ *[0-9]+/[0-9]+ " "$dir/test-output.txt" | sed "s/^/[$label] /"
	ok=$(sed -n 's/^Ok:[[:space:]]*\([0-9]*\).*/\1/p' "$dir/test-output.txt")
	ko=$(sed -n 's/^Fail:[[:space:]]*\([0-9]*\).*/\1/p' "$dir/test-output.txt")
	to=$(sed -n 's/^Timeout:[[:space:]]*\([0-9]*\).*/\1/p' "$dir/test-output.txt")
	sk=$(sed -n 's/^Skipped:[[:space:]]*\([0-9]*\).*/\1/p' "$dir/test-output.txt")
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${ko:-0} + ${to:-0}))
	skipped=$((skipped + ${sk:-0}))
	# A failure says why in CI's output: the failed checks of each failing
	# test (its full log stays in $dir/test-output.txt).
	if [ "${ko:-0}" -gt 0 ] || [ "${to:-0}" -gt 0 ]; then
		grep -E "^(FAIL |not ok|\[  FAILED  \]|ERROR|Traceback)|AssertionError|runtime error:|ERROR: AddressSanitizer" \
			"$dir/test-output.txt" | head -n 40 | sed "s/^/[$label] why: /"
		grep -E "^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT)" "$dir/test-output.txt" |
			sed "s/^ */[$label] failed: /" >>"$failures"
		grep -E "^(FAIL |not ok|\[  FAILED  \])|AssertionError|runtime error:|ERROR: AddressSanitizer" \
			"$dir/test-output.txt" | head -n 8 | sed "s/^/[$label] why: /" >>"$failures"
	fi
	if [ -z "$ok" ]; then
		echo "[$label] meson test did not run"; cat "$dir/test-output.txt"; failed=$((failed + 1))
	fi
}

run_suite "$build" release
# The hostile-remote suite runs once, in the release build (five minutes of
# episodes); the sanitizers see hostile bytes through the fuzzers. The
# emulators' suite is Python: nothing for the sanitizers to see.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suite "$asan" "asan+ubsan" --no-suite hostile --no-suite emulators
[ -n "$fuzz" ] && run_suite "$fuzz" fuzz --suite fuzz

cat "$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
