# The container deployment, checked without a Docker engine: the compose files are valid
# for Debian's docker-compose and name only services we build (scripts/check-compose.sh),
# the containers' health check script and the secrets docker/init-secrets.sh creates work
# with the real binaries.

t_compose_config_valid() {
	"$E2E_ROOT/scripts/check-compose.sh" >"$W/check.log" 2>&1
	local rc=$?
	sed 's/^/    /' "$W/check.log"
	if [ $rc = 77 ]; then
		if [ "${CI:-}" = true ]; then fail "docker-compose not installed (scripts/deps.sh installs it under CI)"
		else echo "    skipped: docker-compose is not installed"; T_SKIP=1; fi
		return
	fi
	assert_eq "$rc" 0 "scripts/check-compose.sh"
}

t_compose_healthcheck_script() {
	local hc="$E2E_ROOT/docker/healthcheck.sh"
	# the main stack's services hold connections to the bus port, the gateway serves /healthz
	sh "$hc" bus >"$W/bus.log" 2>&1; assert_eq "$?" 0 "bus check with instances connected: $(cat "$W/bus.log")"
	MDM_BUS_URL=tcp://127.0.0.1:1 sh "$hc" bus >"$W/nobus.log" 2>&1
	assert_eq "$?" 1 "bus check with nothing connected to that port"
	assert_contains "$W/nobus.log" "not connected to the bus"
	sh "$hc" gateway; assert_eq "$?" 0 "gateway check"
	MDM_HTTPS_PORT=1 sh "$hc" gateway; assert_ne "$?" 0 "gateway check on a closed port"
}

t_compose_secrets_work() {
	local s="$W/secrets" token old_token="$ADMIN_TOKEN"
	MDM_SECRETS_DIR="$s" MDM_PUBLIC_URL=https://mdm.example.com "$E2E_ROOT/docker/init-secrets.sh" >"$W/init.log" 2>&1 ||
		{ fail "init-secrets.sh: $(cat "$W/init.log")"; return; }
	local f
	for f in ca.pem ca.key tls.pem admin_token.conf; do [ -s "$s/$f" ] || fail "$f not created"; done
	assert_eq "$(stat -c %a "$s/ca.key")" 400 "CA key mode"
	# run again: nothing is replaced
	local sum; sum=$(cat "$s"/* | sha256sum)
	MDM_SECRETS_DIR="$s" "$E2E_ROOT/docker/init-secrets.sh" >>"$W/init.log" 2>&1 || fail "second run"
	assert_eq "$(cat "$s"/* | sha256sum)" "$sum" "a second run changes nothing"
	openssl verify -CAfile "$s/ca.pem" "$s/tls.pem" >/dev/null 2>&1 || fail "TLS certificate not issued by the CA"
	openssl x509 -in "$s/tls.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:mdm.example.com" ||
		fail "TLS certificate lacks the public host name"
	# pki takes the CA from the secret files (MDM_CA_CERT / MDM_CA_KEY), as in compose.yml
	MDM_DATA_DIR="$W/pkidata" MDM_CA_CERT="$s/ca.pem" MDM_CA_KEY="$s/ca.key" "$BIN/mdm-pki" --init >"$W/pki.log" 2>&1 ||
		fail "pki cannot use the CA: $(cat "$W/pki.log")"
	[ ! -e "$W/pkidata/ca/ca.key" ] || fail "pki created its own CA instead of using the secret"
	# the registry reads the admin token from the secret through MDM_CONFIG
	token=$(sed -n 's/^MDM_ADMIN_TOKEN=//p' "$s/admin_token.conf")
	[ ${#token} = 64 ] || fail "admin token: [$token]"
	stop_proc registry
	wait_until "registry gone" bash -c "[ \"\$(curl -sf --cacert '$CA' '$BASE/healthz' | python3 -c \"import json,sys; print(json.load(sys.stdin)['registry'])\")\" = 0 ]"
	start_proc compose-registry env MDM_CONFIG="$s/admin_token.conf" "$BIN/mdm-registry"
	wait_instances registry 1 || fail "registry with MDM_CONFIG did not start"
	API_TOKEN=$token api GET /api/v1/devices
	assert_eq "$API_STATUS" 200 "the token from the secret is accepted"
	API_TOKEN=$old_token api GET /api/v1/devices
	assert_eq "$API_STATUS" 401 "the data directory's token is not"
	stop_proc compose-registry
	start_service registry
	wait_instances registry 1 || fail "main registry back"
}
