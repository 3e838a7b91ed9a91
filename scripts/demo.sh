#!/bin/bash
# `make demo`: one hub, five systems, on loopback: a real Request Tracker 5
# and a real Redmine 5 from Debian's packages, and emulated ServiceNow,
# Microsoft Sentinel and Jira Cloud (emulators/). Starts the peers
# (installing them the first time), then scripts/demo/story.py starts the
# emulators and `concord serve` with examples/five-systems.yaml and tells
# the story of an incident raised in Sentinel (docs in README.md). Needs root (apt-get, and the peers'
# service accounts).
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

say "ServiceNow, Microsoft Sentinel and Jira (emulated) with Request Tracker and Redmine (real): one hub"
# scripts/demo/story.py starts the three emulators and concord serve with
# examples/five-systems.yaml, and tells the story step by step.
/usr/bin/python3 "$here/scripts/demo/story.py" --concord "$concord" --dir "$work"
say "done: RT $RT_URL (root/password) and Redmine $REDMINE_URL (admin/admin123456) keep running"
echo "stop them with: tests/integration/peers/stop-peers.sh $peers --wipe"
echo "the hub's files (configuration, store, log): $work"
echo "a longer run with virtual people and faults: ./build/concord demo --seconds 120 --faults all"
