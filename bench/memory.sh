#!/bin/bash
# bench/memory.sh [N] [BUILD] -- Redis bytes per enrolled device, and where they are.
# A dev tool (docs/performance.md "Memory"): starts the stack on private loopback ports as
# bench/run.sh does, enrolls N devices (default 2000) with `mdm-loadgen enroll` exactly like
# the benchmark (one pre-enrollment secret per device through the admin API, spent by the
# enrollment), and prints the used_memory delta per device and its split by key family
# (device hash, certificate hash, hardware index, device list, filter indexes, audit log
# and its indexes...) with the encoding of a sample of each, and a sample device hash.
# Runs in a temporary folder, removed at the end (KEEP=1 keeps it, with the logs).
# About 15 s for N=2000 on 2 cores; use nice, the machine may be shared.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-2000}
BUILD=${2:-build}
BIN="$ROOT/$BUILD/bin"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mdm-memory.XXXXXX")
log() { printf '%s memory: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $* (logs in $WORK)"; exit 1; }
[ -x "$BIN/mdm-loadgen" ] || die "$BIN/mdm-loadgen missing: run make first"

# --- the stack (as bench/run.sh) -----------------------------------------------------------
for _ in $(seq 1 50); do
	PORT_BASE=$((42000 + (RANDOM % 2000) * 10))
	busy=0
	for k in 1 2 3 4; do ss -Hltn "sport = :$((PORT_BASE + k))" 2>/dev/null | grep -q . && busy=1; done
	[ $busy = 0 ] && break
done
export MDM_HTTPS_PORT=$((PORT_BASE + 1)) MDM_MGMT_PORT=$((PORT_BASE + 2))
REDIS_PORT=$((PORT_BASE + 3))
export MDM_BUS_BIND="tcp://127.0.0.1:$((PORT_BASE + 4))"
export MDM_BUS_URL="$MDM_BUS_BIND" MDM_LISTEN_ADDR=127.0.0.1
export MDM_PUBLIC_URL="https://localhost:$MDM_HTTPS_PORT"
export MDM_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export MDM_PASSWORD_ITER=1000 MDM_DATA_DIR="$WORK/data"
CA="$MDM_DATA_DIR/ca/ca.pem"
PIDS=()
stop_all() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap stop_all EXIT
trap 'exit 130' INT TERM
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
used_memory() { rcli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
# after a pause (Redis shrinks idle clients' buffers in its cron), the least of 3 readings:
# transient client buffers and half-done hash table resizes are not what a device costs
settled_memory() {
	sleep 2
	local m best=
	for _ in 1 2 3; do
		m=$(used_memory)
		[ -z "$best" ] || [ "$m" -lt "$best" ] && best=$m
		sleep 0.5
	done
	echo "$best"
}

mkdir -p "$MDM_DATA_DIR/redis"
"$BIN/mdm-pki" --init >>"$WORK/init.log" 2>&1 || die "mdm-pki --init"
"$ROOT/scripts/dev-certs.sh" "$MDM_DATA_DIR" >>"$WORK/init.log" 2>&1 || die "dev-certs.sh"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$MDM_DATA_DIR/redis" --save "" \
	--appendonly yes --daemonize no >>"$WORK/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [ "$(rcli ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
for s in gateway discovery pki registry syncml; do
	"$BIN/mdm-$s" >>"$WORK/$s.log" 2>&1 &
	PIDS+=($!)
done
for _ in $(seq 1 100); do
	curl -sf --cacert "$CA" "https://localhost:$MDM_HTTPS_PORT/healthz" 2>/dev/null |
		python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(d.get(s) for s in ('discovery','pki','registry','syncml')) else 1)" 2>/dev/null &&
		break
	sleep 0.1
done

# --- per key family: MEMORY USAGE of every key, grouped (ids replaced by '*') ---------------
snapshot() { # FILE: "family bytes keys" lines
	rcli --scan >"$WORK/keys"
	sed 's/^/MEMORY USAGE /; s/$/ SAMPLES 0/' "$WORK/keys" | rcli >"$WORK/usage"
	paste -d' ' "$WORK/keys" "$WORK/usage" | python3 -c '
import re, sys, collections
per = re.compile(r"^(mdm:(?:dev|cert|hw|pre|tok|cmd|q|dcmd|sess|user|fail):)")
agg = collections.defaultdict(lambda: [0, 0])
for line in sys.stdin:
    key, _, n = line.rstrip("\n").rpartition(" ")
    m = per.match(key)
    fam = m.group(1) + "*" if m else re.sub(r"^(mdm:st:(?:enr|sess):[hd]):\d+$", r"\1:*", key)
    agg[fam][0] += int(n or 0); agg[fam][1] += 1
for f, (b, k) in agg.items(): print(f, b, k)' >"$1"
}

M0=$(settled_memory)
snapshot "$WORK/before"
log "enrolling $N devices (pre-enrollment secrets through the admin API), redis on :$REDIS_PORT"
"$BIN/mdm-loadgen" enroll --url "https://127.0.0.1:$MDM_HTTPS_PORT" --cacert "$CA" \
	--admin-token-file "$MDM_DATA_DIR/admin.token" --keys-file "$WORK/keys.pem" --count "$N" \
	--conns "${MEM_CONNS:-8}" --name memory >"$WORK/enroll.json" 2>>"$WORK/loadgen.log" ||
	die "mdm-loadgen enroll failed"
M1=$(settled_memory)
snapshot "$WORK/after"
DEV=$(rcli ZCARD mdm:devices)
[ "$DEV" -gt 0 ] || die "no device enrolled"

# --- samples, and the exact cost of the single big keys (services stopped first) ----------
for p in "${PIDS[@]:1}"; do kill "$p" 2>/dev/null; done
for p in "${PIDS[@]:1}"; do wait "$p" 2>/dev/null; done
PIDS=("${PIDS[0]}")
ID=$(rcli ZRANGE mdm:devices 0 0)
THUMB=$(rcli HGET "mdm:dev:$ID" cert_thumbprint)
HW=$(rcli --scan --pattern "mdm:hw:*" | head -1)
{
	echo "sample mdm:dev:$ID $(rcli OBJECT ENCODING "mdm:dev:$ID") $(rcli HLEN "mdm:dev:$ID") fields"
	echo "sample mdm:cert:$THUMB $(rcli OBJECT ENCODING "mdm:cert:$THUMB")"
	echo "sample $HW $(rcli OBJECT ENCODING "$HW")"
	for k in $(grep -v '\*' "$WORK/after" | cut -d' ' -f1); do
		echo "sample $k $(rcli OBJECT ENCODING "$k") $(rcli TYPE "$k")"
	done
	rcli HGETALL "mdm:dev:$ID" | paste -d' ' - - | sed 's/^/field /'
} >"$WORK/samples"
# single keys (streams, sorted sets, bitmaps: MEMORY USAGE only estimates them) are measured
# exactly by the used_memory their DEL frees; keys per device (small hashes, strings) by
# MEMORY USAGE, which is exact for them
for fam in $(grep -v '\*' "$WORK/after" | cut -d' ' -f1); do
	m0=$(used_memory)
	rcli DEL "$fam" >/dev/null
	echo "freed $fam $((m0 - $(used_memory)))"
done >"$WORK/freed"

# --- report -------------------------------------------------------------------------------
python3 - "$WORK" "$M0" "$M1" "$DEV" "$N" <<'EOF'
import sys
w = sys.argv[1]
m0, m1, dev, n = (int(x) for x in sys.argv[2:6])
def load(p):
    return {f: (int(b), int(k)) for f, b, k in (l.split() for l in open(p))}
before, after = load(w + "/before"), load(w + "/after")
freed = {f: int(b) for _, f, b in (l.split() for l in open(w + "/freed"))}
lines = open(w + "/samples").read().splitlines()
enc = {l.split()[1]: " ".join(l.split()[2:]) for l in lines if l.startswith("sample ")}
fields = [l.split(None, 1)[1] for l in lines if l.startswith("field ")]
print("devices enrolled: %d of %d" % (dev, n))
print("used_memory delta: %d B -> %.0f B per device" % (m1 - m0, (m1 - m0) / dev))
print("\n%-38s %7s %9s  %-13s %s" % ("key family", "keys", "B/device", "measured by", "encoding"))
rows = []
for f in set(before) | set(after):
    b = after.get(f, (0, 0))[0] - before.get(f, (0, 0))[0]
    k = after.get(f, (0, 0))[1] - before.get(f, (0, 0))[1]
    if b:
        rows.append((freed[f], f, k, "DEL") if f in freed else (b, f, k, "MEMORY USAGE"))
tot = 0
for b, f, k, how in sorted(rows, reverse=True):
    e = next((v for s, v in enc.items() if s == f or (f.endswith("*") and s.startswith(f[:-1]))), "")
    print("%-38s %7d %9.1f  %-13s %s" % (f[:38], k, b / dev, how, e))
    tot += b
print("%-38s %7s %9.1f" % ("sum", "", tot / dev))
print("%-38s %7s %9.1f" % ("rest: keyspace table, clients, ...", "", (m1 - m0 - tot) / dev))
print("\nsample device hash (%d fields, %d bytes of names and values):" % (len(fields), sum(len(x) - 1 for x in fields)))
for x in fields:
    print("  " + x)
EOF
