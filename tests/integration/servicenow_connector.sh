#!/bin/sh
# The ServiceNow connector against the ServiceNow emulator: starts
# emulators/servicenow/server.py on a free loopback port with a temporary
# database, a Basic user, an OAuth client and its webhooks going to a small
# listener that keeps their bodies, runs test_servicenow against it, and
# stops both. No root. Usage: servicenow_connector.sh TEST_BINARY SOURCE_ROOT
set -u
test_bin=$1
root=$2
dir=$(mktemp -d)
pid=
hpid=
trap 'kill $pid $hpid 2>/dev/null; wait $pid $hpid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
# a listener for the emulator's business-rule webhooks: each body one line of hooks.txt
/usr/bin/python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
' "$dir/hooks.txt" >"$dir/hookport" 2>/dev/null &
hpid=$!
for _ in $(seq 1 50); do [ -s "$dir/hookport" ] && break; sleep 0.1; done
hport=$(cat "$dir/hookport")
/usr/bin/python3 "$root/emulators/servicenow/server.py" --port 0 --db "$dir/sn.db" \
	--user concord:concord-pass --oauth-client concord-client:concord-secret:concord \
	--sys-user ann.lee --webhook "http://127.0.0.1:$hport/webhook/servicenow" >"$dir/out" 2>"$dir/err" &
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
"$test_bin" "http://127.0.0.1:$port" concord concord-pass concord-client concord-secret \
	"$dir/hooks.txt"
rc=$?
[ $rc -ne 0 ] && tail -20 "$dir/err"
exit $rc
