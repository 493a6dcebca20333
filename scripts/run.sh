#!/bin/sh
# `make run`: dev CA + TLS certificate under $MDM_DATA_DIR, a private Redis (append-only
# file on) unless MDM_REDIS_URL is given, every service and the gateway, in the
# foreground. Ctrl-C (SIGINT) or SIGTERM stops everything.
set -eu
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD/bin" && pwd)
export MDM_DATA_DIR="${MDM_DATA_DIR:-$PWD/var}"
export MDM_HTTPS_PORT="${MDM_HTTPS_PORT:-8443}"
export MDM_MGMT_PORT="${MDM_MGMT_PORT:-8444}"
export MDM_BUS_BIND="${MDM_BUS_BIND:-tcp://127.0.0.1:5560}"
export MDM_BUS_URL="${MDM_BUS_URL:-$MDM_BUS_BIND}"
export MDM_PUBLIC_URL="${MDM_PUBLIC_URL:-https://localhost:$MDM_HTTPS_PORT}"
export MDM_ADMIN_DIR="${MDM_ADMIN_DIR:-$PWD/admin}"
REDIS_PORT="${MDM_REDIS_PORT:-6390}"
mkdir -p "$MDM_DATA_DIR" && chmod 700 "$MDM_DATA_DIR"
MDM_DATA_DIR=$(cd "$MDM_DATA_DIR" && pwd)
export MDM_DATA_DIR

pids=""
stop() {
	trap - INT TERM EXIT
	echo "stopping..."
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	exit 0
}
trap stop INT TERM EXIT

"$BIN/mdm-pki" --init
host=$(printf '%s' "$MDM_PUBLIC_URL" | sed -E 's#^https://(\[[^]]*\]|[^:/]*).*#\1#')
./scripts/dev-certs.sh "$MDM_DATA_DIR" "$host"

if [ -z "${MDM_REDIS_URL:-}" ]; then
	mkdir -p "$MDM_DATA_DIR/redis"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$MDM_DATA_DIR/redis" \
		--appendonly yes --appendfsync everysec --save "" --daemonize no \
		--logfile "$MDM_DATA_DIR/redis/redis.log" &
	pids="$pids $!"
	export MDM_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
	i=0
	until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "redis did not start"; exit 1; }
		sleep 0.1
	done
fi

"$BIN/mdm-gateway" & pids="$pids $!"
for s in discovery pki registry syncml; do
	"$BIN/mdm-$s" & pids="$pids $!"
done

i=0
until curl -sf --cacert "$MDM_DATA_DIR/ca/ca.pem" "https://localhost:$MDM_HTTPS_PORT/healthz" 2>/dev/null |
	grep -q '"registry":[1-9]'; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "services did not come up"; exit 1; }
	sleep 0.1
done
cat <<MSG

  MDM server running.
  Enrollment (discovery):  $MDM_PUBLIC_URL/EnrollmentServer/Discovery.svc
  Management (mutual TLS): https://$host:$MDM_MGMT_PORT/ManagementServer/MDM.svc
  Admin console:           $MDM_PUBLIC_URL/admin/
  Admin API:               $MDM_PUBLIC_URL/api/v1/  (Authorization: Bearer <token>)
  Admin token:             ${MDM_ADMIN_TOKEN:+from MDM_ADMIN_TOKEN}${MDM_ADMIN_TOKEN:-$MDM_DATA_DIR/admin.token}
  Dev CA (trust it):       $MDM_DATA_DIR/ca/ca.pem
  Redis:                   $MDM_REDIS_URL
  Try the simulator:       $BIN/mdm-sim --help
  Ctrl-C stops everything.

MSG
# any process exiting brings the whole stack down (wait -n is bash; poll instead)
while :; do
	for p in $pids; do
		kill -0 "$p" 2>/dev/null || { echo "process $p exited"; stop; }
	done
	sleep 1
done
