#!/bin/sh
# The store from the command line: a simulated run on SQLite, then audit,
# explain, dead letters, backup and migrate read it back; a bad store gives
# a clear error, never a crash.
# usage: store_cli.sh CONCORD SCRATCH_DIR
set -u
concord=$1
dir=$2/store-cli.$$
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
db=$dir/sim.db
fail() { echo "FAIL: $*"; exit 1; }

"$concord" sim --seed 7 --runs 1 --hours 1 --store "sqlite:$db" >/dev/null ||
	fail "sim on sqlite"
out=$("$concord" audit 1 --store "sqlite:$db") || fail "audit"
echo "$out" | grep -q "case-created" || fail "audit shows no case-created: $out"
echo "$out" | grep -q "servicenow-0" || fail "audit shows no system names"
out=$("$concord" explain 1 title --store "sqlite:$db") || fail "explain"
echo "$out" | grep -q "rule: " || fail "explain names no rule: $out"
echo "$out" | grep -q "won by: " || fail "explain names no winner: $out"
"$concord" explain 1 nosuchfield --store "sqlite:$db" 2>"$dir/err" && fail "unknown field accepted"
grep -q "no decision about a field named nosuchfield" "$dir/err" || fail "unclear unknown field error"
"$concord" audit 999999 --store "sqlite:$db" 2>"$dir/err" && fail "missing case accepted"
grep -q "no case 999999" "$dir/err" || fail "unclear missing case error"
out=$("$concord" deadletters list --store "sqlite:$db") || fail "deadletters list"
echo "$out" | grep -q "dead letter" || fail "deadletters list: $out"
"$concord" deadletters retry 12345 --store "sqlite:$db" 2>"$dir/err" && fail "retry of a missing letter"
grep -q "no dead letter 12345" "$dir/err" || fail "unclear missing letter error"

# backup: a consistent copy that opens with the same audit
"$concord" store backup "$dir/copy.db" --store "sqlite:$db" >/dev/null || fail "backup"
a=$("$concord" audit 1 --store "sqlite:$db" | md5sum)
b=$("$concord" audit 1 --store "sqlite:$dir/copy.db" | md5sum)
[ "$a" = "$b" ] || fail "backup differs from the original"
out=$("$concord" store migrate --store "sqlite:$dir/copy.db") || fail "migrate"
echo "$out" | grep -q "nothing to do" || fail "migrate of a current store: $out"

# a damaged store is not backed up (its damage would be the backup)
cp "$db" "$dir/damaged.db"
size=$(stat -c %s "$dir/damaged.db")
# garbage over the middle pages, away from the header and the schema
dd if=/dev/urandom of="$dir/damaged.db" bs=4096 seek=$((size / 4096 / 2)) count=4 \
	conv=notrunc status=none
"$concord" store backup "$dir/damaged-copy.db" --store "sqlite:$dir/damaged.db" \
	>/dev/null 2>"$dir/err" && fail "a damaged store was backed up"
grep -q "damaged" "$dir/err" || fail "unclear damaged store error: $(cat "$dir/err")"
[ -s "$dir/damaged-copy.db" ] && fail "a damaged store left a copy"

# clear errors
printf 'this is not a database, it is a shopping list\n%.0s' $(seq 1 200) >"$dir/garbage.db"
"$concord" audit 1 --store "sqlite:$dir/garbage.db" 2>"$dir/err" && fail "garbage store opened"
grep -qi "corrupt\|not a" "$dir/err" || fail "unclear corrupt store error: $(cat "$dir/err")"
"$concord" audit 1 --store "sqlite:$dir/no/such/dir/x.db" 2>"$dir/err" && fail "unwritable path opened"
grep -q "$dir/no/such/dir/x.db" "$dir/err" || fail "error does not name the path: $(cat "$dir/err")"
"$concord" audit 1 --store "postgres://x" 2>"$dir/err" && fail "unknown store kind accepted"
grep -q "sqlite:" "$dir/err" || fail "unclear store URL error: $(cat "$dir/err")"
echo ok
