# The device simulator performs the whole Windows flow over HTTPS in each auth mode;
# then renewal over mutual TLS, re-enrollment, and the management listener's TLS rules.

sim_enroll() { # OUTDIR ARGS... -> exit code; output in OUTDIR.log
	local out=$1; shift
	sim enroll --url "$BASE" --cacert "$CA" --out "$out" "$@" >"$out.log" 2>&1
}

t_sim_enroll_onpremise() {
	create_user sim-onprem@example.com 'Pa55word!x' || fail "create user"
	sim_enroll "$W/dev" --auth onprem --email sim-onprem@example.com --password 'Pa55word!x'
	assert_eq "$?" 0 "simulator enrollment: $(cat "$W/dev.log")"
	local id thumb
	id=$(json_get '["device_id"]' <"$W/dev/enrollment.json")
	thumb=$(json_get '["thumbprint"]' <"$W/dev/enrollment.json")
	api GET "/api/v1/devices/$id"
	assert_eq "$API_STATUS" 200 "device listed"
	assert_contains "$API_BODY" "\"thumbprint\":\"$thumb\""
	assert_contains "$API_BODY" '"auth":"onpremise"'
	api GET /api/v1/devices
	assert_contains "$API_BODY" "\"device_id\":\"$id\"" "in GET /api/v1/devices"
	assert_eq "$(stat -c %a "$W/dev/device.key")" 600 "device key private"
	# wrong password: the simulator reports the fault (exit 2), nothing stored
	local n; n=$(device_count)
	sim_enroll "$W/bad" --auth onprem --email sim-onprem@example.com --password nope
	assert_eq "$?" 2 "wrong password is a SOAP fault"
	assert_contains "$W/bad.log" "Authentication"
	assert_eq "$(device_count)" "$n" "nothing stored"
}

t_sim_enroll_device_store_and_win81() {
	create_user sim-dev@example.com 'Pa55word!x' || fail "create user"
	sim_enroll "$W/sys" --auth onprem --email sim-dev@example.com --password 'Pa55word!x' --enrollment-type Device
	assert_eq "$?" 0 "Device enrollment: $(cat "$W/sys.log")"
	assert_contains "$W/sys/provdoc.xml" '<characteristic type="System">' "My/System"
	assert_contains "$W/sys/provdoc.xml" 'Stores=My%5CSystem'
	sim_enroll "$W/w81" --auth onprem --email sim-dev@example.com --password 'Pa55word!x' --win81
	assert_eq "$?" 0 "Windows 8.1 enrollment: $(cat "$W/w81.log")"
	assert_contains "$W/w81/provdoc.xml" "DeviceEnrollmentWebservice.svc"
}

t_sim_enroll_preenrollment() {
	api POST /api/v1/pre-enrollments '{"email":"sim-pre@example.com","device_name":"KIOSK-7","group":"lobby"}'
	assert_eq "$API_STATUS" 201 "pre-enrollment created"
	local secret; secret=$(json_get '["secret"]' <<<"$API_BODY")
	assert_contains "$API_BODY" '"expires_at":"'
	sim_enroll "$W/dev" --auth preenroll --email sim-pre@example.com --secret "$secret"
	assert_eq "$?" 0 "enrollment with the secret: $(cat "$W/dev.log")"
	local id; id=$(json_get '["device_id"]' <"$W/dev/enrollment.json")
	api GET "/api/v1/devices/$id"
	assert_contains "$API_BODY" '"device_name":"KIOSK-7"' "administrator's device name"
	assert_contains "$API_BODY" '"auth":"preenrollment"'
	# the secret works once
	local n; n=$(device_count)
	sim_enroll "$W/again" --auth preenroll --email sim-pre@example.com --secret "$secret"
	assert_eq "$?" 2 "secret reused"
	assert_eq "$(device_count)" "$n" "nothing stored"
	# the secret is bound to its email
	api POST /api/v1/pre-enrollments '{"email":"sim-pre2@example.com"}'
	local s2; s2=$(json_get '["secret"]' <<<"$API_BODY")
	sim_enroll "$W/other" --auth preenroll --email sim-pre@example.com --secret "$s2"
	assert_eq "$?" 2 "secret of another email"
	# an expired secret is refused
	local h; h=$(printf '%s' "$s2" | sha256sum | cut -c1-64)
	assert_eq "$(redis EXISTS "mdm:pre:$h")" 1 "secret stored by hash, not in clear"
	redis PEXPIRE "mdm:pre:$h" 1 >/dev/null; sleep 0.1
	sim_enroll "$W/expired" --auth preenroll --email sim-pre2@example.com --secret "$s2"
	assert_eq "$?" 2 "expired secret"
	assert_eq "$(device_count)" "$n" "nothing stored"
}

t_sim_enroll_federated() {
	create_user sim-fed@example.com 'Pa55word!x' || fail "create user"
	sim_enroll "$W/dev" --auth federated --email sim-fed@example.com --password 'Pa55word!x'
	assert_eq "$?" 0 "federated enrollment: $(cat "$W/dev.log")"
	local id; id=$(json_get '["device_id"]' <"$W/dev/enrollment.json")
	api GET "/api/v1/devices/$id"
	assert_contains "$API_BODY" '"auth":"federated"'
	assert_contains "$API_BODY" '"user":"sim-fed@example.com"'
	sim_enroll "$W/bad" --auth federated --email sim-fed@example.com --password nope
	assert_eq "$?" 4 "wrong password on the login page"
	# the login page refuses an appru that is not the broker's
	local code; code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' \
		"$BASE/EnrollmentServer/Auth?appru=https%3A%2F%2Fevil.example%2F&login_hint=a%40b.c")
	assert_eq "$code" 400 "appru must be ms-app://"
	curl -s --cacert "$CA" "$BASE/EnrollmentServer/Auth?appru=ms-app%3A%2F%2Fx%22%3E%3Cscript%3E&login_hint=%3Cb%3E" >"$W/page.html"
	assert_not_contains "$W/page.html" "<script>" "escaped"
}

t_sim_reenroll_replaces_certificate() {
	create_user sim-re@example.com 'Pa55word!x' || fail "create user"
	sim_enroll "$W/a" --auth onprem --email sim-re@example.com --password 'Pa55word!x' --device-id 0123456789ABCDEF0123456789ABCDEF
	assert_eq "$?" 0 "first enrollment"
	local t1; t1=$(json_get '["thumbprint"]' <"$W/a/enrollment.json")
	local n; n=$(device_count)
	sim_enroll "$W/b" --auth onprem --email sim-re@example.com --password 'Pa55word!x' --device-id 0123456789ABCDEF0123456789ABCDEF
	assert_eq "$?" 0 "re-enrollment"
	local t2; t2=$(json_get '["thumbprint"]' <"$W/b/enrollment.json")
	assert_ne "$t2" "$t1" "new certificate"
	assert_eq "$(device_count)" "$n" "still one device"
	assert_eq "$(redis HGET "mdm:cert:$t1" state)" revoked "old certificate revoked"
	assert_eq "$(redis HGET "mdm:cert:$t2" state)" active "new certificate active"
	# the revoked certificate can no longer renew
	sim renew --dir "$W/a" --cacert "$CA" >"$W/renew-old.log" 2>&1
	assert_eq "$?" 2 "renewal with a revoked certificate: $(cat "$W/renew-old.log")"
	assert_contains "$W/renew-old.log" "NotEligibleToRenew"
}

t_sim_renewal_robo() {
	create_user sim-renew@example.com 'Pa55word!x' || fail "create user"
	sim_enroll "$W/dev" --auth onprem --email sim-renew@example.com --password 'Pa55word!x'
	assert_eq "$?" 0 "enrollment"
	local id t1 t2
	id=$(json_get '["device_id"]' <"$W/dev/enrollment.json")
	t1=$(json_get '["thumbprint"]' <"$W/dev/enrollment.json")
	assert_contains "$(json_get '["renew_url"]' <"$W/dev/enrollment.json")" ":$MDM_MGMT_PORT/" "Renew/ServerURL on the mTLS listener"
	cp -r "$W/dev" "$W/old"
	sim renew --dir "$W/dev" --cacert "$CA" >"$W/renew.log" 2>&1
	assert_eq "$?" 0 "renewal: $(cat "$W/renew.log")"
	t2=$(json_get '["thumbprint"]' <"$W/dev/enrollment.json")
	assert_ne "$t2" "$t1" "renewed certificate"
	assert_eq "$(redis HGET "mdm:cert:$t1" state)" superseded "old certificate superseded"
	assert_eq "$(redis HGET "mdm:cert:$t2" state)" active
	api GET "/api/v1/devices/$id"
	assert_contains "$API_BODY" "\"thumbprint\":\"$t2\"" "device record follows the renewal"
	# the superseded certificate cannot renew again
	sim renew --dir "$W/old" --cacert "$CA" >"$W/renew2.log" 2>&1
	assert_eq "$?" 2 "superseded certificate: $(cat "$W/renew2.log")"
	# renewal is refused without a client certificate (enrollment listener)
	sim renew --dir "$W/dev" --cacert "$CA" --url "$BASE/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc" >"$W/renew3.log" 2>&1
	assert_eq "$?" 2 "renewal without mutual TLS: $(cat "$W/renew3.log")"
}

t_sim_management_listener_requires_our_certificate() {
	create_user sim-mgmt@example.com 'Pa55word!x' || fail "create user"
	sim_enroll "$W/dev" --auth onprem --email sim-mgmt@example.com --password 'Pa55word!x'
	assert_eq "$?" 0 "enrollment"
	local url="$MGMT/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA" code
	code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -d x "$url")
	assert_eq "$code" 000 "no client certificate: TLS refused"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/other.key" -out "$W/other.pem" -subj /CN=intruder -days 1 2>/dev/null
	code=$(curl -s --cacert "$CA" --cert "$W/other.pem" --key "$W/other.key" -o /dev/null -w '%{http_code}' -d x "$url")
	assert_eq "$code" 000 "certificate from another CA: TLS refused"
	code=$(curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" -o "$W/m.body" -w '%{http_code}' \
		-H 'Content-Type: application/vnd.syncml.dm+xml' -d x "$url")
	assert_eq "$code" 400 "our certificate reaches the syncml service (which refuses a body that is not SyncML)"
	# the enrollment listener never asks for a certificate
	echo | openssl s_client -connect "127.0.0.1:$MDM_HTTPS_PORT" -CAfile "$CA" 2>/dev/null >"$W/sclient.txt"
	assert_contains "$W/sclient.txt" "No client certificate CA names sent" "enrollment listener sends no certificate request"
}
