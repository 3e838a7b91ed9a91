#!/bin/sh
# Installs the Debian 12 packages concord needs to build and test, when they
# are missing. Runs apt-get as root (directly, or through sudo).
set -eu

need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in gcc make meson ninja-build pkg-config libcmocka-dev libsqlite3-dev \
	libcurl4-openssl-dev libssl-dev libmicrohttpd-dev libjansson-dev libfyaml-dev python3 curl \
	clang libfuzzer-14-dev libclang-rt-14-dev python3-azure; do
	have_pkg "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0

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
