#!/usr/bin/env bash
# rt_redmine_connectors.sh TEST_BINARY -- the RT and Redmine connectors against
# real servers on loopback (Request Tracker 5 and Redmine 5 from Debian).
#
# Uses the peers of $CONCORD_PEERS_DIR (default /tmp/concord-peers) when both
# answer; otherwise starts them with peers/start-peers.sh (installs the Debian
# packages on first use, ~30 s; then ~4 s) and stops them again at the end.
# Needs root (apt-get, the Redmine instance link): skipped (77) otherwise.
# Every wait is bounded; every URL is 127.0.0.1.
set -euo pipefail
BIN=${1:?usage: rt_redmine_connectors.sh TEST_BINARY}
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS_DIR=${CONCORD_PEERS_DIR:-/tmp/concord-peers}

[ "$(id -u)" = 0 ] || { echo "not root: skipped"; exit 77; }
command -v curl >/dev/null || { echo "no curl: skipped"; exit 77; }

answers() { # url header
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "$2" "$1")" = 200 ]
}
peers_up() {
  [ -s "$PEERS_DIR/peers.env" ] || return 1
  ( set -a; . "$PEERS_DIR/peers.env"; set +a
    answers "$RT_REST2_URL/queues/all" "Authorization: token $RT_TOKEN" &&
    answers "$REDMINE_URL/projects/$REDMINE_PROJECT.json" "X-Redmine-API-Key: $REDMINE_API_KEY" )
}

started=0
if ! peers_up; then
  echo "starting the peers in $PEERS_DIR"
  timeout 600 "$HERE/peers/start-peers.sh" "$PEERS_DIR" >/dev/null
  started=1
fi
cleanup() { [ $started = 1 ] && "$HERE/peers/stop-peers.sh" "$PEERS_DIR" >/dev/null 2>&1; true; }
trap cleanup EXIT

set -a; . "$PEERS_DIR/peers.env"; set +a
case "$RT_REST2_URL$REDMINE_URL" in
  *//127.0.0.1:*//127.0.0.1:*) ;;
  *) echo "peers are not on loopback: $RT_REST2_URL $REDMINE_URL"; exit 1 ;;
esac

# Redmine fixtures (idempotent): an assignable user and a second project.
M=(-s --max-time 10 -H "X-Redmine-API-Key: $REDMINE_API_KEY" -H 'Content-Type: application/json')
uid=$(curl "${M[@]}" "$REDMINE_URL/users.json?name=ctest&status=" |
      python3 -c 'import json,sys;u=[x for x in json.load(sys.stdin)["users"] if x["login"]=="ctest"];print(u[0]["id"] if u else "")')
if [ -z "$uid" ]; then
  uid=$(curl "${M[@]}" -X POST -d '{"user":{"login":"ctest","firstname":"Connector","lastname":"Test","mail":"ctest@example.com","password":"ctest-password-1"}}' \
        "$REDMINE_URL/users.json" | python3 -c 'import json,sys;print(json.load(sys.stdin)["user"]["id"])')
fi
role=$(curl "${M[@]}" "$REDMINE_URL/roles.json" |
       python3 -c 'import json,sys;r=[x["id"] for x in json.load(sys.stdin)["roles"] if x["name"]=="Developer"];print(r[0] if r else "")')
curl "${M[@]}" -o /dev/null -X POST -d "{\"membership\":{\"user_id\":$uid,\"role_ids\":[$role]}}" \
  "$REDMINE_URL/projects/$REDMINE_PROJECT/memberships.json" || true
other=$(curl "${M[@]}" "$REDMINE_URL/projects/sync-elsewhere.json" |
        python3 -c 'import json,sys;print(json.load(sys.stdin)["project"]["id"])' 2>/dev/null || true)
if [ -z "$other" ]; then
  other=$(curl "${M[@]}" -X POST -d '{"project":{"name":"Elsewhere","identifier":"sync-elsewhere","enabled_module_names":["issue_tracking"],"tracker_ids":[1,2,3]}}' \
          "$REDMINE_URL/projects.json" | python3 -c 'import json,sys;print(json.load(sys.stdin)["project"]["id"])')
fi

# RT fixture (idempotent): a second queue to move tickets to.
R=(-s --max-time 10 -H "Authorization: token $RT_TOKEN" -H 'Content-Type: application/json')
if [ "$(curl "${R[@]}" -o /dev/null -w '%{http_code}' "$RT_REST2_URL/queue/Elsewhere")" != 200 ]; then
  curl "${R[@]}" -o /dev/null -X POST -d '{"Name":"Elsewhere"}' "$RT_REST2_URL/queue"
fi
export RT_OTHER_QUEUE=Elsewhere

export TEST_ASSIGNEE_RT=root TEST_ASSIGNEE_REDMINE=ctest REDMINE_OTHER_PROJECT_ID=$other
export RT_MAIL_DIR=$PEERS_DIR/rt/var
timeout 300 "$BIN"
