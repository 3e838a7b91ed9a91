#!/bin/sh
# The ServiceNow connector against the ServiceNow emulator: starts
# emulators/servicenow/server.py on a free loopback port with a temporary
# database, a Basic user and an OAuth client, runs test_servicenow against
# it, and stops it. No root. Usage: servicenow_connector.sh TEST_BINARY SOURCE_ROOT
set -u
test_bin=$1
root=$2
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
/usr/bin/python3 "$root/emulators/servicenow/server.py" --port 0 --db "$dir/sn.db" \
	--user concord:concord-pass --oauth-client concord-client:concord-secret:concord \
	>"$dir/out" 2>"$dir/err" &
pid=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/out")
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -z "$port" ]; then
	echo "the emulator did not start:"; cat "$dir/err"
	exit 1
fi
"$test_bin" "http://127.0.0.1:$port" concord concord-pass concord-client concord-secret
rc=$?
[ $rc -ne 0 ] && tail -20 "$dir/err"
exit $rc
