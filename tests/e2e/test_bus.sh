# The bus under real conditions: several PKI instances share the load, instances join and
# leave while the gateway runs, a service killed mid-request gives a clean error.

enroll_n() { # N PREFIX -> runs N simulator enrollments concurrently; echoes failures
	local n=$1 prefix=$2 pids=() fails=0
	for i in $(seq 1 "$n"); do
		sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email bus@example.com \
			--password 'Pa55word!x' >"$W/$prefix$i.log" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
	echo "$fails"
}

t_bus_two_pki_instances_share_the_load() {
	create_user bus@example.com 'Pa55word!x' || fail "create user"
	start_service pki2 pki
	wait_instances pki 2 || fail "second pki instance did not join"
	local before1 before2
	before1=$(grep -c "enrolled " "$E2E_OUT/pki.log"); before2=$(grep -c "enrolled " "$E2E_OUT/pki2.log")
	assert_eq "$(enroll_n 8 e)" 0 "8 concurrent enrollments"
	local d1 d2
	d1=$(( $(grep -c "enrolled " "$E2E_OUT/pki.log") - before1 ))
	d2=$(( $(grep -c "enrolled " "$E2E_OUT/pki2.log") - before2 ))
	assert_eq "$((d1 + d2))" 8 "every enrollment issued once"
	[ "$d1" -ge 1 ] && [ "$d2" -ge 1 ] || fail "both instances must serve (got $d1 and $d2)"
	# an instance leaves: the rest keeps serving, nothing is sent to the departed one
	stop_proc pki2
	wait_until "pki2 gone" bash -c "[ \"\$(curl -sf --cacert '$CA' '$BASE/healthz' | python3 -c \"import json,sys; print(json.load(sys.stdin)['pki'])\")\" = 1 ]" || fail "pki2 not forgotten"
	assert_eq "$(enroll_n 3 f)" 0 "enrollments after an instance left"
}

t_bus_frozen_instance_is_dropped_and_others_serve() {
	create_user bus@example.com 'Pa55word!x' || fail "create user"
	start_service pki3 pki
	wait_instances pki 2 || fail "second pki instance"
	# freeze the first instance while idle: the broker still counts it alive for ~3
	# heartbeats, then drops it; meanwhile requests must all be served by pki3
	stop_proc pki STOP
	sleep 1.5
	local before; before=$(grep -c "enrolled " "$E2E_OUT/pki3.log")
	assert_eq "$(enroll_n 4 s)" 0 "enrollments while one instance is frozen"
	assert_eq "$(( $(grep -c "enrolled " "$E2E_OUT/pki3.log") - before ))" 4 "all served by the free instance"
	kill -CONT "${PIDS[pki]}"
	wait_instances pki 2 || fail "the frozen instance rejoins after it thaws"
	stop_proc pki3
}

t_bus_service_killed_mid_request() {
	create_user bus@example.com 'Pa55word!x' || fail "create user"
	wait_instances pki 1 || fail "pki up"
	# only one pki instance: freeze it so a request is in its hands, then kill it
	stop_proc pki STOP
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email bus@example.com \
		--password 'Pa55word!x' --timeout 20 >"$W/mid.log" 2>&1 &
	local sp=$!
	sleep 0.5
	stop_proc pki KILL
	wait "$sp"; local rc=$?
	assert_ne "$rc" 0 "the request in flight fails"
	assert_contains "$W/mid.log" "InternalServiceFault" "with the SOAP fault for an unavailable service"
	local before; before=$(device_count)
	# with no instance at all, requests are answered 503 + Retry-After after the timeout
	sed 's/demo@fleetdm.ngrok.io/bus@example.com/' "$VECTORS/windows/fleet_w10_04_getpolicies_request_onpremise_usernametoken.xml" >"$W/gp.xml" 2>/dev/null ||
		printf '<x/>' >"$W/gp.xml"
	local code; code=$(soap_post "$BASE/EnrollmentServer/PolicyEnrollmentWebservice.svc" "$W/gp.xml" "$W/none")
	assert_eq "$code" 503 "no instance: 503"
	assert_contains "$W/none.head" "Retry-After:"
	assert_contains "$W/none.body" "InternalServiceFault"
	# the gateway is still alive and the service comes back
	start_service pki
	wait_instances pki 1 || fail "pki back"
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email bus@example.com --password 'Pa55word!x' >"$W/after.log" 2>&1
	assert_eq "$?" 0 "the next request succeeds once it is back: $(cat "$W/after.log")"
	assert_eq "$(device_count)" "$((before + 1))" "one more device"
}
