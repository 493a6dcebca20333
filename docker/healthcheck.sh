#!/bin/sh
# mdm-healthcheck -- container health check (docker/compose.yml, docker/Dockerfile).
#   mdm-healthcheck gateway   GET https://127.0.0.1:$MDM_HTTPS_PORT/healthz answers 200
#   mdm-healthcheck [bus]     this container holds an established TCP connection to the
#                             port of $MDM_BUS_URL (a service instance joined the bus)
# Exit 0 healthy, 1 not. Needs only sh, awk and (gateway) curl; reads /proc/net/tcp*, which
# in a container lists only the container's own connections.
set -u
case "${1:-bus}" in
gateway)
	exec curl -skf -o /dev/null --max-time 4 "https://127.0.0.1:${MDM_HTTPS_PORT:-8443}/healthz"
	;;
bus)
	url=${MDM_BUS_URL:-tcp://127.0.0.1:5560}
	port=${url##*:}
	case "$port" in '' | *[!0-9]*) echo "MDM_BUS_URL has no port: $url" >&2; exit 1 ;; esac
	hex=$(printf '%04X' "$port")
	files=""
	for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && files="$files $f"; done
	# remote address column ends in :PORT (hex), state 01 = ESTABLISHED
	# shellcheck disable=SC2086
	[ -n "$files" ] && awk -v p=":$hex" 'FNR > 1 && substr($3, length($3) - 4) == p && $4 == "01" { ok = 1 }
		END { exit !ok }' $files && exit 0
	echo "not connected to the bus at $url" >&2
	exit 1
	;;
*)
	echo "usage: mdm-healthcheck [gateway|bus]" >&2
	exit 2
	;;
esac
