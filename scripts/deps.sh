#!/bin/sh
# Installs the Debian packages the build, `make run` and `make test` need, and only the
# missing ones. Run as root (CI) or with sudo available; apt-get update runs first.
# redis-sentinel: the Sentinel failover tests; docker-compose (v1): offline validation of
# docker/compose.yml (scripts/check-compose.sh) -- no Docker engine is needed or installed.
# chromium: the dashboard browser test (driven by playwright-core from tests/browser).
set -eu
PKGS="build-essential pkg-config libssl-dev libxml2-dev libxml2-utils libzmq3-dev \
libhiredis-dev libjansson-dev libcmocka-dev libcurl4-openssl-dev libwbxml2-dev redis-server \
redis-sentinel openssl curl xz-utils python3 dpkg-dev docker-compose chromium fonts-dejavu-core"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
need_src=0
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
	need_src=1
fi
[ -z "$missing" ] && [ "$need_src" = 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
if [ "$need_src" = 1 ]; then
	# civetweb is built from Debian's own source package (see Makefile), which needs deb-src.
	printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
		$SUDO tee /etc/apt/sources.list.d/mdm-deb-src.sources >/dev/null
fi
echo "deps: installing:$missing"
$SUDO apt-get update -q
[ -z "$missing" ] || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
