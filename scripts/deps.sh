#!/bin/sh
# Installs the Debian 12 packages concord needs to build and test, when they
# are missing, and the npm packages of the jira.js test (tests/emulators/jira_js).
# Runs apt-get as root (directly, or through sudo).
set -eu

need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in gcc make meson ninja-build pkg-config libcmocka-dev libsqlite3-dev \
	libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libjansson-dev libfyaml-dev python3 curl \
	clang libfuzzer-14-dev libclang-rt-14-dev python3-azure; do
	have_pkg "$p" || need="$need $p"
done
# Node.js and npm for the jira.js test (tests/emulators/jira_js): Debian's
# when the machine has none (a machine may already have its own Node.js).
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"

if [ -n "$need" ]; then
	echo "concord: installing Debian packages:$need"
	if [ "$(id -u)" -eq 0 ]; then
		SUDO=""
	elif command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "concord: need root (or sudo) to install:$need" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $need
fi

# The jira.js test's npm packages, as pinned by its package-lock.json: npm ci
# when node_modules is missing or older than the lock file. Not fatal here (a
# build needs none of it); without them that test is skipped, and CI counts a
# skipped test as failed.
jsdir="$(cd "$(dirname "$0")/.." && pwd)/tests/emulators/jira_js"
if [ -f "$jsdir/package-lock.json" ] && command -v npm >/dev/null 2>&1; then
	stamp="$jsdir/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$jsdir/package-lock.json" -nt "$stamp" ]; then
		echo "concord: npm ci in tests/emulators/jira_js (jira.js for the emulator's test)"
		(cd "$jsdir" && npm ci --no-audit --no-fund --loglevel=error) ||
			echo "concord: npm ci failed in $jsdir: the jira.js test will be skipped" >&2
	fi
fi
