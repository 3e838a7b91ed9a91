#!/bin/bash
# `make demo`: a live two-way sync between a real Request Tracker 5 and a real
# Redmine 5 from Debian's packages, on loopback. Starts the peers (installing
# them the first time, about half a minute), starts `concord serve` with
# examples/rt-redmine.yaml, makes changes on each side, and shows them arrive
# on the other. Needs root (apt-get, and the peers' service accounts).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
concord=$here/build/concord
# The demo's own pair of peers, started afresh each time (other runs'
# tickets would make the first sync long): data here, ports 18082/18083.
peers=${CONCORD_DEMO_PEERS_DIR:-/tmp/concord-demo-peers}
work=$(mktemp -d /tmp/concord-demo.XXXXXX)
log=$work/concord.log
serve_pid=

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
cleanup() {
	if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
		kill -TERM "$serve_pid"
		wait "$serve_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || die "run as root (the peers are installed with apt-get)"
command -v python3 >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null

say "starting a fresh Request Tracker and Redmine on 127.0.0.1 (first time: installing them)"
"$here/tests/integration/peers/stop-peers.sh" "$peers" --wipe >/dev/null 2>&1 || true
# RT posts each ticket transaction to concord's listener (examples/rt-redmine.yaml
# listens on 127.0.0.1:8484): a webhook makes the change arrive without
# waiting for the next poll; polling alone would be just as correct.
RT_WEBHOOK_URL=http://127.0.0.1:8484/webhook/rt \
	"$here/tests/integration/peers/start-peers.sh" "$peers" 18082 18083 >"$work/peers.log" 2>&1 ||
	{ tail -20 "$work/peers.log"; die "the peers did not start"; }
[ -f "$peers/peers.env" ] || die "no $peers/peers.env: the peers did not write it"
set -a
# shellcheck disable=SC1091
. "$peers/peers.env"
set +a

RT=(-s --max-time 20 -H "Authorization: token $RT_TOKEN" -H "Content-Type: application/json")
RM=(-s --max-time 20 -H "X-Redmine-API-Key: $REDMINE_API_KEY" -H "Content-Type: application/json")
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
stamp=$(date +%H%M%S)

# Bounded wait: until "$@" prints something non-empty, at most 120 s.
wait_for() {
	local what=$1 out
	shift
	for _ in $(seq 1 120); do
		out=$("$@" 2>/dev/null || true)
		if [ -n "$out" ] && [ "$out" != "None" ]; then
			echo "$out"
			return 0
		fi
		sleep 1
	done
	die "timed out waiting for $what"
}

rm_issue_by_subject() {
	curl "${RM[@]}" "$REDMINE_URL/issues.json?project_id=$REDMINE_PROJECT&status_id=*&subject=~$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1]))' "$1")" |
		json "d['issues'][0]['id'] if d['issues'] else ''"
}
rm_field() { curl "${RM[@]}" "$REDMINE_URL/issues/$1.json?include=journals" | json "$2"; }
rt_ticket_by_subject() {
	curl "${RT[@]}" -G "$RT_REST2_URL/tickets" --data-urlencode "query=Subject LIKE '$1'" |
		json "d['items'][0]['id'] if d.get('items') else ''"
}
rt_field() { curl "${RT[@]}" "$RT_REST2_URL/ticket/$1" | json "$2"; }

say "starting concord serve -c examples/rt-redmine.yaml (polling every 2 s)"
"$concord" check -c "$here/examples/rt-redmine.yaml" | head -1
# One store per pair of peers: correlation ids name this store's cases.
"$concord" serve -c "$here/examples/rt-redmine.yaml" --store "sqlite:$peers/concord.db" >"$log" 2>&1 &
serve_pid=$!
sleep 3
kill -0 "$serve_pid" 2>/dev/null || { cat "$log"; die "concord serve stopped"; }

say "1. a ticket raised in Request Tracker appears in Redmine"
subject="Printer on floor 3 jams ($stamp)"
rt_id=$(curl "${RT[@]}" -X POST -d "{\"Queue\":\"General\",\"Subject\":\"$subject\",\"Content\":\"Paper jam again.\"}" \
	"$RT_REST2_URL/ticket" | json "d['id']")
echo "RT ticket $rt_id: $subject"
rm_id=$(wait_for "the Redmine copy" rm_issue_by_subject "$subject")
echo "Redmine issue $rm_id: $(rm_field "$rm_id" "d['issue']['subject']")"
echo "  both carry the case id: RT ExternalRef=$(rt_field "$rt_id" "[c['values'] for c in d.get('CustomFields',[]) if c['name']=='ExternalRef'][0][0]"), Redmine ExternalRef=$(rm_field "$rm_id" "[c['value'] for c in d['issue']['custom_fields'] if c['name']=='ExternalRef'][0]")"

say "2. a note added in Redmine arrives in Request Tracker as a comment"
curl "${RM[@]}" -o /dev/null -X PUT -d '{"issue":{"notes":"Replaced the paper tray, please check."}}' "$REDMINE_URL/issues/$rm_id.json"
rt_comments() {
	curl "${RT[@]}" "$RT_REST2_URL/ticket/$1/history?fields=Type" |
		json "sum(1 for t in d.get('items', []) if t.get('Type') == 'Comment') or ''"
}
wait_for "the comment in RT" rt_comments "$rt_id" >/dev/null
echo "RT ticket $rt_id now has the comment (mirrored once, as a comment: no mail to the requester)"

say "3. resolved in Request Tracker -> Resolved in Redmine"
curl "${RT[@]}" -o /dev/null -X PUT -d '{"Status":"resolved"}' "$RT_REST2_URL/ticket/$rt_id"
rm_resolved() { rm_field "$1" "'yes' if d['issue']['status']['name'] == 'Resolved' else ''"; }
wait_for "Redmine Resolved" rm_resolved "$rm_id" >/dev/null
echo "Redmine issue $rm_id: $(rm_field "$rm_id" "d['issue']['status']['name']")"

say "4. Closed in Redmine: RT's resolved already stands for it, nothing flips back"
closed_id=$(curl "${RM[@]}" "$REDMINE_URL/issue_statuses.json" | json "[s['id'] for s in d['issue_statuses'] if s['name']=='Closed'][0]")
curl "${RM[@]}" -o /dev/null -X PUT -d "{\"issue\":{\"status_id\":$closed_id}}" "$REDMINE_URL/issues/$rm_id.json"
sleep 6
echo "Redmine issue $rm_id: $(rm_field "$rm_id" "d['issue']['status']['name']"), RT ticket $rt_id: $(rt_field "$rt_id" "d['Status']")"

say "5. an issue raised in Redmine appears in Request Tracker"
subject2="VPN drops every hour ($stamp)"
rm2=$(curl "${RM[@]}" -X POST -d "{\"issue\":{\"project_id\":\"$REDMINE_PROJECT\",\"subject\":\"$subject2\",\"priority_id\":4}}" \
	"$REDMINE_URL/issues.json" | json "d['issue']['id']")
echo "Redmine issue $rm2: $subject2"
rt2=$(wait_for "the RT copy" rt_ticket_by_subject "$subject2")
echo "RT ticket $rt2: $(rt_field "$rt2" "d['Subject']")"
echo "  priority: Redmine $(rm_field "$rm2" "d['issue']['priority']['name']") -> RT $(rt_field "$rt2" "d['Priority']") (RT numbers stand for levels by ranges)"

say "what concord did (its log)"
grep -E "case-created|created-remote|written|comment-mirrored|dedup|WARN|ERROR" "$log" | tail -25 || true
say "done: concord stopped with SIGTERM; its store is $peers/concord.db (try: ./build/concord audit 1 --store sqlite:$peers/concord.db)"
echo "RT $RT_URL (root/password) and Redmine $REDMINE_URL (admin/admin123456) keep running;"
echo "stop them with: tests/integration/peers/stop-peers.sh $peers --wipe"
