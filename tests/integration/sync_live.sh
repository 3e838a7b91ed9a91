#!/bin/bash
# Runs sync_live.py against a fresh pair of real Request Tracker and Redmine
# servers on loopback (their own data directory and ports, wiped at the end),
# so that tickets left by other runs cannot slow or confuse it.
# usage: sync_live.sh CONCORD REPO_ROOT ; exit 77 (skipped) when not root.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root to start the peers: skipped"; exit 77; }
concord=$1 root=$2
here=$(cd "$(dirname "$0")" && pwd)
peers=$(mktemp -d /tmp/concord-live-peers.XXXXXX)
cleanup() { "$here/peers/stop-peers.sh" "$peers" --wipe >/dev/null 2>&1 || true; rm -rf "$peers"; }
trap cleanup EXIT
# With CONCORD_LIVE_WEBHOOKS=1 (the default) RT posts every ticket transaction
# to concord's listener, and the RT connector reads the ticket each one names;
# with 0 concord sees changes by polling alone (see sync_live.py).
webhooks=${CONCORD_LIVE_WEBHOOKS:-1}
listen=${CONCORD_LIVE_LISTEN_PORT:-18484}
hook=
[ "$webhooks" = 1 ] && hook=http://127.0.0.1:$listen/webhook/rt
RT_WEBHOOK_URL=$hook \
"$here/peers/start-peers.sh" "$peers" ${CONCORD_LIVE_RT_PORT:-18090} ${CONCORD_LIVE_REDMINE_PORT:-18091} >"$peers/start.log" 2>&1 ||
	{ tail -20 "$peers/start.log"; exit 1; }
CONCORD_LIVE_LISTEN_PORT=$listen CONCORD_LIVE_WEBHOOKS=$webhooks CONCORD_PEERS_DIR=$peers \
	python3 "$here/sync_live.py" "$concord" "$root"
