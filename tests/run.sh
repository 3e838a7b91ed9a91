#!/bin/sh
# Runs everything CI runs: the unit and simulation suites in a normal build
# and again under AddressSanitizer + UndefinedBehaviorSanitizer. Ends with
# the line "N passed, N failed"; exits non-zero when anything failed.
set -u
build=${1:-build}
asan=${2:-build-asan}
passed=0
failed=0

run_suite() { # dir label
	ninja -C "$1" >/dev/null || { echo "BUILD FAILED in $1"; failed=$((failed + 1)); return; }
	meson test -C "$1" --print-errorlogs --num-processes 2 >"$1/test-output.txt" 2>&1
	cat "$1/test-output.txt" | grep -E "^ *[0-9]+/[0-9]+ " | sed "s/^/[$2] /"
	ok=$(sed -n 's/^Ok:[[:space:]]*\([0-9]*\).*/\1/p' "$1/test-output.txt")
	ko=$(sed -n 's/^Fail:[[:space:]]*\([0-9]*\).*/\1/p' "$1/test-output.txt")
	to=$(sed -n 's/^Timeout:[[:space:]]*\([0-9]*\).*/\1/p' "$1/test-output.txt")
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${ko:-0} + ${to:-0}))
	if [ -z "$ok" ]; then
		echo "[$2] meson test did not run"; cat "$1/test-output.txt"; failed=$((failed + 1))
	fi
}

run_suite "$build" release
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run_suite "$asan" "asan+ubsan"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
