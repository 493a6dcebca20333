#!/bin/sh
# Fetches civetweb 1.15 from Debian's own source package into $1 (default third_party/).
# Debian's binary libcivetweb1 is built for the OpenSSL 1.1 API and crashes on HTTPS, so
# we compile civetweb.c ourselves (see Makefile). Nothing fetched here is committed.
set -eu
dest=${1:-third_party}
[ -f "$dest/civetweb-1.15/src/civetweb.c" ] && exit 0
mkdir -p "$dest/dl"
cd "$dest/dl"
if ! ls civetweb_1.15*.orig.tar.xz >/dev/null 2>&1; then
	apt-get source --download-only civetweb=1.15+dfsg-4 >/dev/null 2>&1 ||
		apt-get source --download-only civetweb
fi
tar -C .. -xf civetweb_1.15*.orig.tar.xz
test -f ../civetweb-1.15/src/civetweb.c
