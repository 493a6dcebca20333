#!/bin/bash
# bench/run.sh BUILD -- `make bench`: throughput, latency, scale-out and memory of the
# enrollment and management paths against their physical limits on this machine, with the
# whole stack (redis-server, gateway, discovery, pki, registry, syncml) started here on
# private loopback ports, as tests/e2e/lib.sh does. Never part of `make test`.
#
# Results: bench/results/latest.json (+ a table on stdout), charts bench/results/*.png,
# raw measurements and logs in bench/results/work/. docs/performance.md explains them.
#
#   make bench                   the default run (about 6 minutes on 2 cores)
#   make bench SCALE=100000      opt-in: N devices enroll, then each runs one management
#                                session; total time and Redis memory -> results/scale.json
#
# Knobs (environment): BENCH_CONNS (24 connections), BENCH_ENROLL (10000: enrollments with
# 1 pki, split over BENCH_ROUNDS=3 rounds; as many again with 2 pki), BENCH_SECONDS (10 per
# management measurement), BENCH_QUICKACK (1, see docs/performance.md).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
BIN="$ROOT/$BUILD/bin"
LG="$BIN/mdm-loadgen"
RES="$ROOT/bench/results"
WORK="$RES/work"
SCALE=${SCALE:-0}
CONNS=${BENCH_CONNS:-24}          # below the gateway's 32 HTTP threads per listener
N_MAIN=${BENCH_ENROLL:-10000}
SECS=${BENCH_SECONDS:-10}
QA=""
[ "${BENCH_QUICKACK:-1}" = 1 ] && QA="--quickack"

log() { printf '%s bench: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

[ -x "$LG" ] || die "$LG missing: run make build first"
command -v redis-server >/dev/null || die "redis-server missing (scripts/deps.sh installs it)"

# --- gnuplot (charts) -----------------------------------------------------------------
if ! command -v gnuplot >/dev/null; then
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	log "installing gnuplot-nox"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q gnuplot-nox >/dev/null 2>&1 ||
		{ $SUDO apt-get update -q >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q gnuplot-nox >/dev/null 2>&1; } ||
		log "gnuplot-nox could not be installed: no charts"
fi

# --- the bare civetweb baseline (bench-only binary, see docs/performance.md) -------------
BASELINE="$ROOT/$BUILD/bench/https-baseline"
CW="$ROOT/third_party/civetweb-1.15"
if [ ! -x "$BASELINE" ] || [ "$ROOT/bench/https_baseline.c" -nt "$BASELINE" ] ||
	[ "$ROOT/$BUILD/obj/civetweb.o" -nt "$BASELINE" ]; then
	mkdir -p "$(dirname "$BASELINE")"
	san=""
	[ "$BUILD" = build-san ] && san="-fsanitize=address,undefined" # civetweb.o is built with it
	${CC:-cc} -O2 -g -pthread -D_GNU_SOURCE -Wall -Wextra $san -I"$CW/include" \
		"$ROOT/bench/https_baseline.c" "$ROOT/$BUILD/obj/civetweb.o" -lssl -lcrypto -ldl \
		-o "$BASELINE" || die "cannot build $BASELINE"
fi

# --- the stack ---------------------------------------------------------------------------
rm -rf "$WORK"
mkdir -p "$WORK"
# a free block of ports (other stacks may run on this machine: e2e tests, other benches)
for _ in $(seq 1 50); do
	PORT_BASE=$((40000 + (RANDOM % 2000) * 10))
	busy=0
	for k in 1 2 3 4 5; do
		ss -Hltn "sport = :$((PORT_BASE + k))" 2>/dev/null | grep -q . && busy=1
	done
	[ $busy = 0 ] && break
done
export MDM_HTTPS_PORT=$((PORT_BASE + 1))
export MDM_MGMT_PORT=$((PORT_BASE + 2))
REDIS_PORT=$((PORT_BASE + 3))
export MDM_BUS_BIND="tcp://127.0.0.1:$((PORT_BASE + 4))"
export MDM_BUS_URL="$MDM_BUS_BIND"
BASE_PORT=$((PORT_BASE + 5))
export MDM_LISTEN_ADDR=127.0.0.1
export MDM_PUBLIC_URL="https://localhost:$MDM_HTTPS_PORT"
export MDM_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export MDM_PASSWORD_ITER=1000 # only the dummy check of unknown users: devices use secrets
export MDM_DATA_DIR="$WORK/data"
ENROLL_URL="https://127.0.0.1:$MDM_HTTPS_PORT"
MGMT_URL="https://127.0.0.1:$MDM_MGMT_PORT"
CA="$MDM_DATA_DIR/ca/ca.pem"
declare -A PIDS=()

start_proc() { # NAME CMD...
	local name=$1
	shift
	"$@" >>"$WORK/$name.log" 2>&1 &
	PIDS[$name]=$!
}
stop_all() {
	for n in "${!PIDS[@]}"; do kill "${PIDS[$n]}" 2>/dev/null; done
	for n in "${!PIDS[@]}"; do wait "${PIDS[$n]}" 2>/dev/null; done
	PIDS=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

healthz() { curl -sf --cacert "$CA" "https://localhost:$MDM_HTTPS_PORT/healthz"; }
wait_instances() { # SERVICE N
	for _ in $(seq 1 100); do
		[ "$(healthz | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" 2>/dev/null)" = "$2" ] &&
			return 0
		sleep 0.1
	done
	die "$2 x $1 did not join the bus"
}
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
used_memory() { rcli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }

log "stack on ports $PORT_BASE+1..5, data in $MDM_DATA_DIR"
mkdir -p "$MDM_DATA_DIR/redis"
"$BIN/mdm-pki" --init >>"$WORK/init.log" 2>&1 || die "mdm-pki --init"
"$ROOT/scripts/dev-certs.sh" "$MDM_DATA_DIR" || die "dev-certs.sh"
start_proc redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$MDM_DATA_DIR/redis" \
	--appendonly yes --save "" --daemonize no
for _ in $(seq 1 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
start_proc gateway "$BIN/mdm-gateway"
for s in discovery pki registry syncml; do start_proc "$s" "$BIN/mdm-$s"; done
for s in discovery pki registry syncml; do wait_instances "$s" 1; done
TOKEN_FILE="$MDM_DATA_DIR/admin.token"

# --- measurement helpers -----------------------------------------------------------------
# measure NAME CMD...: runs a load generator command and keeps its JSON line in WORK/NAME.json;
# LG_WATCH makes the load generator report the CPU each stack process used during the
# measurement itself (not during its preparation).
measure() {
	local name=$1
	shift
	local watch=""
	for n in "${!PIDS[@]}"; do watch="$watch$n=${PIDS[$n]},"; done
	LG_WATCH="$watch" "$@" >"$WORK/$name.json" 2>>"$WORK/loadgen.log"
	local rc=$?
	[ $rc = 0 ] || log "$name: load generator reported failures (see $WORK/loadgen.log)"
	[ -s "$WORK/$name.json" ] || die "$name produced no result"
	python3 - "$WORK/$name.json" <<'EOF' >&2
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
if "per_s" in r:
    print("    %-26s %10.1f /s" % (r["name"], r["per_s"]))
else:
    print("    %-26s %10.1f jobs/s %9.1f req/s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  ok %d failed %d"
          % (r["name"], r["jobs_per_s"], r["requests_per_s"], r["p50_ms"], r["p99_ms"], r["max_ms"],
             r["jobs_ok"], r["jobs_failed"]))
EOF
}

KEYS="$WORK/keys.pem"
ENR=("$LG" enroll --url "$ENROLL_URL" --cacert "$CA" --admin-token-file "$TOKEN_FILE" --keys-file "$KEYS" $QA)
MAN=("$LG" manage --url "$MGMT_URL" --cacert "$CA" $QA)

{
	echo "cpu_model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "cores=$(nproc)"
	echo "kernel=$(uname -r)"
	echo "openssl=$(openssl version | cut -d' ' -f2)"
	echo "redis=$(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p')"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "scale=$SCALE"
	echo "conns=$CONNS"
	echo "quickack=${BENCH_QUICKACK:-1}"
	echo "git=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo +dirty)"
} >"$WORK/machine.txt"

T_START=$(date +%s.%N)

# ======================================================================================
if [ "$SCALE" -gt 0 ] 2>/dev/null; then
	log "SCALE=$SCALE: $SCALE devices enroll, then each runs one management session"
	M0=$(used_memory)
	measure scale_enroll "${ENR[@]}" --count "$SCALE" --conns "${BENCH_SCALE_ENROLL_CONNS:-8}" --save "$SCALE" \
		--save-dir "$WORK/devices" --name scale_enroll
	M1=$(used_memory)
	measure scale_manage "${MAN[@]}" --devices "$WORK/devices" --sessions "$SCALE" --conns "$CONNS" \
		--new-conn --name scale_manage
	M2=$(used_memory)
	DEVICES=$(rcli ZCARD mdm:devices)
	for n in "${!PIDS[@]}"; do
		echo "$n $(awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r, h}' "/proc/${PIDS[$n]}/status")"
	done >"$WORK/rss.txt"
	printf 'M0=%s\nM1=%s\nM2=%s\nDEVICES=%s\nT_START=%s\nT_END=%s\n' "$M0" "$M1" "$M2" "$DEVICES" \
		"$T_START" "$(date +%s.%N)" >"$WORK/scale.txt"
	stop_all
	python3 "$ROOT/bench/report.py" scale "$WORK" "$RES"
	exit $?
fi

# ======================================================================================
# This machine may be shared (other stacks, compilers, browsers): the comparisons that give a
# ratio run as ROUNDS adjacent pairs, and report.py takes the median of the per-round ratios.
ROUNDS=${BENCH_ROUNDS:-3}
N_ROUND=$(((N_MAIN + ROUNDS - 1) / ROUNDS))
start_extra() { # NAME SERVICE [N]: one more instance of SERVICE; waits until N (2) are on the bus
	start_proc "$1" "$BIN/mdm-$2"
	wait_instances "$2" "${3:-2}"
}
stop_extra() { # NAME SERVICE [N]: stops it; waits until N (1) are left
	kill "${PIDS[$1]}" 2>/dev/null
	wait "${PIDS[$1]}" 2>/dev/null
	unset "PIDS[$1]"
	wait_instances "$2" "${3:-1}"
}

log "1. enrollment throughput by concurrency (closed loop)"
"$LG" issue --ca-cert "$CA" --ca-key "$MDM_DATA_DIR/ca/ca.key" --keys-file "$KEYS" --seconds 0.1 \
	>/dev/null 2>>"$WORK/loadgen.log" # makes the key pool once
M0=$(used_memory)
SWEEP="1 2 4 8 16 $CONNS"
for c in $SWEEP; do
	n=$((c < 4 ? 300 : 600))
	measure "enroll_c$c" "${ENR[@]}" --count $n --conns $c --name "enroll_c$c"
done
# the rounds run at the concurrency that gave the most (the load generator shares the cores)
EC=$(python3 "$ROOT/bench/report.py" best "$WORK" enroll_c jobs_per_s $SWEEP)
EC2=$((EC < 8 ? 8 : EC)) # two instances need requests in flight for both
echo "enroll_conns=$EC" >>"$WORK/machine.txt"

log "2. $ROUNDS rounds: cert issue loop (physical limit), $N_ROUND enrollments with 1 pki ($EC connections), with 2 pki ($EC2); PKI-bound pair: 1 then 2 single-worker pki"
N_HALF=$(((N_ROUND + 1) / 2))
for r in $(seq 1 "$ROUNDS"); do
	measure "issue_r$r" "$LG" issue --ca-cert "$CA" --ca-key "$MDM_DATA_DIR/ca/ca.key" \
		--keys-file "$KEYS" --seconds 3 --name "issue_r$r"
	save=()
	[ "$r" = 1 ] && save=(--save "$N_ROUND" --save-dir "$WORK/devices")
	measure "enroll_r$r" "${ENR[@]}" --count "$N_ROUND" --conns "$EC" "${save[@]}" \
		--name "enroll_r$r"
	start_extra pki2 pki
	measure "enroll2pki_r$r" "${ENR[@]}" --count "$N_ROUND" --conns "$EC2" --name "enroll_2pki_r$r"
	stop_extra pki2 pki
	# scale-out where the PKI is the bottleneck: instances of one worker each (one signing
	# thread, docs/bus.md), so one instance cannot use the whole machine by itself
	stop_extra pki pki 0
	MDM_WORKERS=1 start_extra pki1w pki 1
	measure "enroll1w_r$r" "${ENR[@]}" --count "$N_HALF" --conns "$EC2" --name "enroll_1x1worker_r$r"
	MDM_WORKERS=1 start_extra pki1w2 pki 2
	measure "enroll2x1w_r$r" "${ENR[@]}" --count "$N_HALF" --conns "$EC2" --name "enroll_2x1worker_r$r"
	stop_extra pki1w2 pki 1
	stop_extra pki1w pki 0
	start_extra pki pki 1
done
measure issue_2threads "$LG" issue --ca-cert "$CA" --ca-key "$MDM_DATA_DIR/ca/ca.key" \
	--keys-file "$KEYS" --seconds 3 --threads 2 --name issue_2threads
measure issue_encode "$LG" issue --ca-cert "$CA" --ca-key "$MDM_DATA_DIR/ca/ca.key" \
	--keys-file "$KEYS" --seconds 3 --encode --name issue_encode
M1=$(used_memory)
DEV1=$(rcli ZCARD mdm:devices)

RATE=$(python3 "$ROOT/bench/report.py" half "$WORK" enroll_r jobs_per_s)
log "3. enrollment latency at half the maximum: $RATE/s open loop"
for r in $(seq 1 "$ROUNDS"); do # rounds again: a neighbour's burst must not decide the result
	measure "enroll_half_r$r" "${ENR[@]}" --count "$(python3 -c "print(int(float('$RATE') * 8))")" \
		--seconds 8 --rate "$RATE" --conns "$CONNS" --cdf "$WORK/enroll_half_r$r.cdf" \
		--name "enroll_half_r$r"
done
measure enroll_noqa "$LG" enroll --url "$ENROLL_URL" --cacert "$CA" --admin-token-file "$TOKEN_FILE" \
	--keys-file "$KEYS" --count 1000 --conns "$CONNS" --name enroll_no_quickack

log "4. management (one OMA-DM session per message, keep-alive, mutual TLS) by concurrency"
measure manage_warmup "${MAN[@]}" --devices "$WORK/devices" --sessions $((CONNS * 2)) \
	--conns "$CONNS" --name manage_warmup
start_proc baseline "$BASELINE" "$BASE_PORT" "$MDM_DATA_DIR/tls/server.pem" "$CA" 32 0
sleep 0.5
BASE=("$LG" manage --url "https://127.0.0.1:$BASE_PORT" --cacert "$CA" --devices "$WORK/devices" $QA)
for c in $SWEEP; do
	measure "manage_c$c" "${MAN[@]}" --devices "$WORK/devices" --seconds 3 --conns $c --name "manage_c$c"
	measure "https_c$c" "${BASE[@]}" --seconds 3 --conns $c --name "https_c$c"
done

MC=$(python3 "$ROOT/bench/report.py" best "$WORK" manage_c requests_per_s $SWEEP)
HC=$(python3 "$ROOT/bench/report.py" best "$WORK" https_c requests_per_s $SWEEP)
MC2=$((MC < 8 ? 8 : MC))
printf 'manage_conns=%s\nhttps_conns=%s\n' "$MC" "$HC" >>"$WORK/machine.txt"
log "5. $ROUNDS rounds: SyncML with 1 syncml ($MC connections), bare civetweb HTTPS ($HC), 2 syncml ($MC2)"
for r in $(seq 1 "$ROUNDS"); do
	measure "manage_r$r" "${MAN[@]}" --devices "$WORK/devices" --seconds "$SECS" --conns "$MC" \
		--name "manage_r$r"
	measure "https_r$r" "${BASE[@]}" --seconds "$SECS" --conns "$HC" --name "https_limit_r$r"
	start_extra syncml2 syncml
	measure "manage2_r$r" "${MAN[@]}" --devices "$WORK/devices" --seconds "$SECS" --conns "$MC2" \
		--name "manage_2syncml_r$r"
	stop_extra syncml2 syncml
done
kill "${PIDS[baseline]}" 2>/dev/null
wait "${PIDS[baseline]}" 2>/dev/null
unset "PIDS[baseline]"
RATE=$(python3 "$ROOT/bench/report.py" half "$WORK" manage_r requests_per_s)
log "6. SyncML latency at half the maximum: $RATE/s open loop"
for r in $(seq 1 "$ROUNDS"); do
	measure "manage_half_r$r" "${MAN[@]}" --devices "$WORK/devices" --seconds 8 --rate "$RATE" \
		--conns "$CONNS" --cdf "$WORK/manage_half_r$r.cdf" --name "manage_half_r$r"
done
measure manage_noqa "$LG" manage --url "$MGMT_URL" --cacert "$CA" --devices "$WORK/devices" \
	--seconds 5 --conns "$CONNS" --name manage_no_quickack
# the bare server with tcp_nodelay=1, and a client that delays its ACKs as Windows does
start_proc baseline_nd "$BASELINE" "$BASE_PORT" "$MDM_DATA_DIR/tls/server.pem" "$CA" 32 1
sleep 0.5
measure https_nodelay_noqa "$LG" manage --url "https://127.0.0.1:$BASE_PORT" --cacert "$CA" \
	--devices "$WORK/devices" --seconds 3 --conns "$CONNS" --name https_nodelay_no_quickack
kill "${PIDS[baseline_nd]}" 2>/dev/null
wait "${PIDS[baseline_nd]}" 2>/dev/null
unset "PIDS[baseline_nd]"

log "7. first management session of $N_ROUND devices (a fresh mTLS connection each)"
M_PRE=$(used_memory)
measure first_session "${MAN[@]}" --devices "$WORK/devices" --sessions "$N_ROUND" --conns "$CONNS" \
	--new-conn --name first_session
M2=$(used_memory)
for n in "${!PIDS[@]}"; do
	echo "$n $(awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r, h}' "/proc/${PIDS[$n]}/status")"
done >"$WORK/rss.txt"
DEVICES=$(rcli ZCARD mdm:devices)
printf 'M0=%s\nM1=%s\nDEV1=%s\nM_PRE=%s\nM2=%s\nDEVICES=%s\nROUNDS=%s\nT_START=%s\nT_END=%s\n' \
	"$M0" "$M1" "$DEV1" "$M_PRE" "$M2" "$DEVICES" "$ROUNDS" "$T_START" "$(date +%s.%N)" \
	>"$WORK/memory.txt"
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/machine.txt"
stop_all

python3 "$ROOT/bench/report.py" default "$WORK" "$RES" || die "report"
if command -v gnuplot >/dev/null; then
	(cd "$RES" && gnuplot "$ROOT/bench/plot.gp") 2>>"$WORK/gnuplot.log" || log "gnuplot failed (see $WORK/gnuplot.log)"
fi
log "done: $RES/latest.json, charts in $RES/*.png"
