#!/bin/bash
# lib.sh -- end-to-end test harness: starts a real stack (redis-server, gateway, every
# service) on private loopback ports in its own data directory, plus assertion helpers.
# Sourced by tests/e2e/run.sh; every test file defines functions named t_<name>.

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BIN="$E2E_ROOT/$BUILD/bin"
VECTORS=${MDM_VECTORS:-$E2E_ROOT/../shared/vectors}
# one folder per run (several runs may share a machine); tests/out/e2e points to the latest
E2E_OUT=${E2E_OUT:-$E2E_ROOT/tests/out/e2e.$$}
mkdir -p "$E2E_OUT"

# --- stack -------------------------------------------------------------------------
# Ports: one random base per run so parallel runs on one machine do not collide.
PORT_BASE=${PORT_BASE:-$((20000 + (RANDOM % 400) * 50))}
export MDM_HTTPS_PORT=$((PORT_BASE + 1))
export MDM_MGMT_PORT=$((PORT_BASE + 2))
REDIS_PORT=$((PORT_BASE + 3))
export MDM_BUS_BIND="tcp://127.0.0.1:$((PORT_BASE + 4))"
export MDM_BUS_URL="$MDM_BUS_BIND"
export MDM_LISTEN_ADDR=127.0.0.1
export MDM_PUBLIC_URL="https://localhost:$MDM_HTTPS_PORT"
export MDM_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export MDM_BUS_TIMEOUT_MS=${MDM_BUS_TIMEOUT_MS:-3000}
export MDM_BUS_HEARTBEAT_MS=${MDM_BUS_HEARTBEAT_MS:-300}
export MDM_PASSWORD_ITER=${MDM_PASSWORD_ITER:-20000}
export MDM_MAX_BODY=${MDM_MAX_BODY:-262144}
export MDM_DATA_DIR="$E2E_OUT/data"
export MDM_ADMIN_DIR="$E2E_ROOT/admin"
BASE="$MDM_PUBLIC_URL"
MGMT="https://localhost:$MDM_MGMT_PORT"
CA="$MDM_DATA_DIR/ca/ca.pem"
declare -A PIDS=()

redis() { redis-cli -p "$REDIS_PORT" "$@"; }

# start_proc NAME CMD...: background process, log in $E2E_OUT/NAME.log
start_proc() {
	local name=$1; shift
	"$@" >>"$E2E_OUT/$name.log" 2>&1 &
	PIDS[$name]=$!
}

stop_proc() {
	local name=$1 sig=${2:-TERM}
	local pid=${PIDS[$name]:-}
	[ -n "$pid" ] || return 0
	kill -"$sig" "$pid" 2>/dev/null
	[ "$sig" = STOP ] && return 0
	wait "$pid" 2>/dev/null
	unset "PIDS[$name]"
}

start_redis() {
	mkdir -p "$MDM_DATA_DIR/redis"
	start_proc redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
		--dir "$MDM_DATA_DIR/redis" --appendonly yes --save "" --daemonize no
	# PONG, not just an answer: a restarted Redis says LOADING while it reads its files
	wait_until "redis up" bash -c "[ \"\$(redis-cli -p $REDIS_PORT ping)\" = PONG ]"
}

start_service() { start_proc "$1" "$BIN/mdm-${2:-$1}"; }

# instances SERVICE: how many instances the gateway knows
instances() {
	curl -sf --cacert "$CA" "$BASE/healthz" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" 2>/dev/null || echo 0
}

wait_until() {
	local what=$1; shift
	for _ in $(seq 1 150); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $what" >&2
	return 1
}

wait_instances() { # SERVICE N
	wait_until "$2 x $1" bash -c "[ \"\$(curl -sf --cacert '$CA' '$BASE/healthz' | python3 -c \"import json,sys; print(json.load(sys.stdin)['$1'])\")\" -ge $2 ]"
}

start_stack() {
	rm -rf "$MDM_DATA_DIR"
	mkdir -p "$MDM_DATA_DIR"
	"$BIN/mdm-pki" --init >>"$E2E_OUT/init.log" 2>&1 || return 1
	"$E2E_ROOT/scripts/dev-certs.sh" "$MDM_DATA_DIR" || return 1
	start_redis || return 1
	start_service gateway
	for s in discovery pki registry syncml; do start_service "$s"; done
	for s in discovery pki registry syncml; do wait_instances "$s" 1 || return 1; done
	ADMIN_TOKEN=$(cat "$MDM_DATA_DIR/admin.token")
}

stop_stack() {
	for name in "${!PIDS[@]}"; do kill -CONT "${PIDS[$name]}" 2>/dev/null; done
	for name in "${!PIDS[@]}"; do stop_proc "$name"; done
}

# --- HTTP helpers ------------------------------------------------------------------
# soap_post URL FILE OUTPREFIX: writes OUTPREFIX.body and OUTPREFIX.head, echoes status
soap_post() {
	curl -s --cacert "$CA" -o "$3.body" -D "$3.head" -w '%{http_code}' \
		-H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$2" "$1"
}

api() { # METHOD PATH [JSON] -> sets API_STATUS and API_BODY (call it without $(...))
	local out="$E2E_OUT/api.$$"
	API_STATUS=$(curl -s --cacert "$CA" -o "$out" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer ${API_TOKEN:-$ADMIN_TOKEN}" -H 'Content-Type: application/json' \
		${3:+--data-binary "$3"} "$BASE$2")
	API_BODY=$(cat "$out")
}

json_get() { # JSON-PATH-EXPR (python) reading stdin, e.g. json_get '["secret"]'
	python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"
}

sim() { "$BIN/mdm-sim" "$@"; }

create_user() { # EMAIL PASSWORD
	api POST /api/v1/users "{\"email\":\"$1\",\"password\":\"$2\"}"
	[ "$API_STATUS" = 201 ] || [ "$API_STATUS" = 409 ]
}

# --- assertions --------------------------------------------------------------------
T_FAILS=0
fail() { echo "    FAIL: $*"; T_FAILS=$((T_FAILS + 1)); }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"; }
assert_ne() { [ "$1" != "$2" ] || fail "${3:-values equal}: both [$1]"; }
assert_contains() { # FILE-OR-STRING NEEDLE MSG
	if [ -f "$1" ]; then grep -qF -- "$2" "$1" || fail "${3:-missing}: [$2] not in $1"
	else case "$1" in *"$2"*) ;; *) fail "${3:-missing}: [$2] not in output: ${1:0:300}";; esac; fi
}
assert_not_contains() {
	if [ -f "$1" ]; then ! grep -qF -- "$2" "$1" || fail "${3:-unexpected}: [$2] in $1"
	else case "$1" in *"$2"*) fail "${3:-unexpected}: [$2] in output";; esac; fi
}
# assert_fault PREFIX STATUS SUBCODE: a SOAP 1.2 fault with that MS-MDE2 subcode
assert_fault() {
	assert_eq "$2" "$3" "HTTP status of the fault"
	assert_contains "$1.body" "<s:Value>s:Receiver</s:Value>" "fault code"
	assert_contains "$1.body" ":$4</s:Value>" "fault subcode $4"
	assert_contains "$1.head" "application/soap+xml" "fault media type"
}
device_count() { redis ZCARD mdm:devices; }
