# Redis Sentinel: enrollments go on through a failover and none that was acknowledged is lost.
#
# Design: this test brings its own small deployment next to the main stack, so the main
# stack's Redis and services are left alone: a Redis master + 2 replicas + 3 sentinels
# (quorum 2) on private loopback ports, and a second gateway with one discovery, pki and
# registry instance whose MDM_REDIS_URL is the redis-sentinel:// URL. It shares the main
# stack's data directory (CA, TLS certificate, admin token), as instances of one deployment
# do. Two replicas, because the store waits for one replica to confirm every write
# (WAIT 1, see libs/store/mdm_sentinel.h): after the master dies, the promoted replica
# still has the other one behind it. Two simulator loops enroll devices with known
# DeviceIDs; the master is SIGKILLed while they run; every enrollment the simulator
# reported as successful must be in the new master.

sen_port() { echo $((PORT_BASE + 20 + $1)); } # 0..9 are this test's

sen_start_redis() {
	local d="$MDM_DATA_DIR/sentinel" m; m=$(sen_port 3)
	rm -rf "$d" && mkdir -p "$d"
	# no diskless-sync delay: the replicas' first full sync starts at once
	start_proc sen-master redis-server --bind 127.0.0.1 --port "$m" --dir "$d" \
		--dbfilename m.rdb --appendonly no --save "" --daemonize no --repl-diskless-sync-delay 0
	wait_until "sentinel-test master up" redis-cli -p "$m" ping || return 1
	local i p
	for i in 1 2; do
		p=$(sen_port $((3 + i)))
		start_proc "sen-replica$i" redis-server --bind 127.0.0.1 --port "$p" --dir "$d" \
			--dbfilename "r$i.rdb" --appendonly no --save "" --daemonize no --repl-diskless-sync-delay 0 \
			--replicaof 127.0.0.1 "$m"
	done
	for i in 1 2; do
		wait_until "replica $i in sync" bash -c "redis-cli -p $(sen_port $((3 + i))) role | grep -qx connected" || return 1
	done
	local bin=(redis-sentinel)
	command -v redis-sentinel >/dev/null || bin=(redis-server --sentinel)
	for i in 1 2 3; do
		p=$(sen_port $((5 + i)))
		printf '%s\n' "port $p" "bind 127.0.0.1" "daemonize no" "dir $d" \
			"sentinel monitor mymaster 127.0.0.1 $m 2" \
			"sentinel down-after-milliseconds mymaster 1000" \
			"sentinel failover-timeout mymaster 5000" >"$d/sentinel$i.conf"
		if [ "${bin[0]}" = redis-sentinel ]; then
			start_proc "sen-sentinel$i" redis-sentinel "$d/sentinel$i.conf"
		else
			start_proc "sen-sentinel$i" redis-server "$d/sentinel$i.conf" --sentinel
		fi
	done
	# ready: every sentinel knows both replicas and the two other sentinels
	for i in 1 2 3; do
		p=$(sen_port $((5 + i)))
		wait_until "sentinel $i ready" bash -c "
			redis-cli -p $p sentinel master mymaster | grep -A1 -x num-other-sentinels | tail -1 | grep -qx 2 &&
			[ \$(redis-cli -p $p sentinel replicas mymaster | grep -c -x -e $(sen_port 4) -e $(sen_port 5)) = 2 ]" || return 1
	done
}

sen_master_port() { # the port the first live sentinel names as master
	local i
	for i in 1 2 3; do
		redis-cli -p "$(sen_port $((5 + i)))" sentinel get-master-addr-by-name mymaster 2>/dev/null | sed -n 2p | grep . && return 0
	done
	return 1
}

sen_worker() { # WORKER URL DIR: sequential enrollments until DIR/stop exists
	local w=$1 url=$2 dir=$3 i=0 rc
	while [ ! -e "$dir/stop" ] && [ $i -lt 300 ]; do
		i=$((i + 1))
		sim enroll --url "$url" --cacert "$CA" --auth onprem --email sentinel@example.com \
			--password 'Pa55word!x' --device-id "SENT-$w-$i" --timeout 10 >"$dir/SENT-$w-$i.log" 2>&1
		rc=$?
		echo "SENT-$w-$i $rc $(date +%s%N)" >>"$dir/results"
		[ $rc = 0 ] || sleep 0.2
	done
}

sen_acked() { # [SINCE_NS]: number of successful enrollments (finished after SINCE_NS)
	awk -v t="${1:-0}" '$2 == 0 && $3 > t' "$W/results" 2>/dev/null | wc -l
}

t_sentinel_failover() {
	if ! command -v redis-sentinel >/dev/null; then
		if [ "${CI:-}" = true ]; then fail "redis-sentinel not installed (scripts/deps.sh)"; return; fi
		echo "    note: redis-sentinel not installed, using redis-server --sentinel"
	fi
	local t_setup; t_setup=$(date +%s)
	sen_start_redis || { fail "could not start Redis master, replicas and sentinels"; return; }
	local url="redis-sentinel://127.0.0.1:$(sen_port 6),127.0.0.1:$(sen_port 7),127.0.0.1:$(sen_port 8)/mymaster"
	local https; https=$(sen_port 0)
	local env=(env MDM_HTTPS_PORT="$https" MDM_MGMT_PORT="$(sen_port 1)"
		MDM_BUS_BIND="tcp://127.0.0.1:$(sen_port 2)" MDM_BUS_URL="tcp://127.0.0.1:$(sen_port 2)"
		MDM_PUBLIC_URL="https://localhost:$https" MDM_REDIS_URL="$url")
	start_proc sen-gateway "${env[@]}" "$BIN/mdm-gateway"
	local s
	for s in discovery pki registry; do start_proc "sen-$s" "${env[@]}" "$BIN/mdm-$s"; done
	# api, create_user and instances use $BASE: point them at this test's gateway
	local BASE="https://localhost:$https"
	for s in discovery pki registry; do wait_instances "$s" 1 || fail "$s did not join the second gateway"; done
	create_user sentinel@example.com 'Pa55word!x' || fail "create user through the sentinel URL: $API_STATUS $API_BODY"
	[ "$T_FAILS" = 0 ] || { sen_stop; return; }

	t_setup=$(( $(date +%s) - t_setup ))
	local old; old=$(sen_master_port)
	assert_eq "$old" "$(sen_port 3)" "the sentinels name the master"
	sen_worker 1 "$BASE" "$W" & local w1=$!
	sen_worker 2 "$BASE" "$W" & local w2=$!
	local t0; t0=$(date +%s)
	while [ "$(sen_acked)" -lt 6 ] && [ $(( $(date +%s) - t0 )) -lt 40 ]; do sleep 0.1; done
	local before; before=$(sen_acked)
	[ "$before" -ge 6 ] || fail "enrollments before the failover: only $before in 40 s"
	local kill_ns; kill_ns=$(date +%s%N)
	stop_proc sen-master KILL # mid-way: both workers are enrolling
	local new=""; t0=$(date +%s)
	while [ $(( $(date +%s) - t0 )) -lt 30 ]; do
		new=$(sen_master_port)
		[ -n "$new" ] && [ "$new" != "$old" ] && break
		sleep 0.2
	done
	assert_ne "${new:-$old}" "$old" "the sentinels promote a replica within 30 s"
	local switched=$(( $(date +%s) - t0 ))
	# enrollments go on: 6 more acknowledged after the kill
	t0=$(date +%s)
	while [ "$(sen_acked "$kill_ns")" -lt 6 ] && [ $(( $(date +%s) - t0 )) -lt 40 ]; do sleep 0.2; done
	touch "$W/stop"
	wait "$w1" "$w2"
	local after; after=$(sen_acked "$kill_ns")
	[ "$after" -ge 6 ] || fail "enrollments after the failover: only $after acknowledged"
	local total failed; total=$(sen_acked); failed=$(awk '$2 != 0' "$W/results" | wc -l)
	echo "    setup ${t_setup}s; $before enrollments acknowledged before the kill, failover in ~${switched}s," \
		"$after acknowledged after it; $failed refused meanwhile"

	# every acknowledged enrollment is in the new master, enrolled
	local missing=0 id
	if [ -n "$new" ] && [ "$new" != "$old" ]; then
		for id in $(awk '$2 == 0 {print $1}' "$W/results"); do
			[ "$(redis-cli -p "$new" hget "mdm:dev:$id" state)" = enrolled ] || {
				missing=$((missing + 1)); echo "    missing in the new master: $id"; }
		done
		assert_eq "$missing" 0 "acknowledged enrollments missing after the failover (of $total)"
		local n; n=$(redis-cli -p "$new" zcard mdm:devices)
		[ "$n" -ge "$total" ] || fail "mdm:devices has $n entries, $total acknowledged"
	fi
	# the services followed the failover without a restart
	grep -q "moved from 127.0.0.1:$old" "$E2E_OUT/sen-pki.log" || fail "pki did not log the master change"
	sen_stop
}

sen_stop() {
	local n
	for n in sen-gateway sen-discovery sen-pki sen-registry sen-sentinel1 sen-sentinel2 sen-sentinel3 \
		sen-master sen-replica1 sen-replica2; do
		stop_proc "$n"
	done
}
