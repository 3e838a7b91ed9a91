#!/bin/bash
# Runs sync_live.py against real Request Tracker and Redmine servers on
# loopback, starting them (as root) when they are not running.
# usage: sync_live.sh CONCORD REPO_ROOT ; exit 77 (skipped) when not root.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "needs root to start the peers: skipped"; exit 77; }
concord=$1 root=$2
peers=${CONCORD_PEERS_DIR:-/tmp/concord-peers}
here=$(cd "$(dirname "$0")" && pwd)
if ! curl -s -o /dev/null --max-time 2 http://127.0.0.1:18080/ ||
   ! curl -s -o /dev/null --max-time 2 http://127.0.0.1:18081/ || [ ! -f "$peers/peers.env" ]; then
	"$here/peers/start-peers.sh" "$peers" >"$peers.start.log" 2>&1 ||
		{ tail -20 "$peers.start.log"; exit 1; }
fi
CONCORD_PEERS_DIR=$peers exec python3 "$here/sync_live.py" "$concord" "$root"
