# Discovery: GET probe, POST for Windows 10/11 and Windows Phone 8.1, schema validation.

t_discovery_get_answers_200_empty() {
	local code len
	code=$(curl -s --cacert "$CA" -o "$W/get.body" -D "$W/get.head" -w '%{http_code}' \
		"$BASE/EnrollmentServer/Discovery.svc")
	assert_eq "$code" 200 "GET status"
	assert_eq "$(stat -c %s "$W/get.body")" 0 "GET body empty"
	assert_contains "$W/get.head" "Content-Length: 0"
	# lower-case path (WSO2's proxy) and a query string reach the same handler
	code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' \
		"$BASE/enrollmentserver/discovery.svc?foo=bar")
	assert_eq "$code" 200 "lower-case path with query"
}

t_discovery_replay_windows10() {
	have_vectors || return 0
	sed 's/demo@fleetdm.ngrok.io/alice@example.com/' "$VECTORS/windows/fleet_w10_02_discovery_request.xml" >"$W/req.xml"
	local code; code=$(soap_post "$BASE/EnrollmentServer/Discovery.svc" "$W/req.xml" "$W/r")
	assert_eq "$code" 200 "status"
	assert_contains "$W/r.head" "Content-Type: application/soap+xml; charset=utf-8"
	assert_contains "$W/r.head" "Content-Length:"
	assert_not_contains "$W/r.head" "chunked"
	assert_contains "$W/r.body" "<a:RelatesTo>urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478</a:RelatesTo>"
	assert_contains "$W/r.body" "IDiscoveryService/DiscoverResponse</a:Action>"
	assert_contains "$W/r.body" "<AuthPolicy>OnPremise</AuthPolicy>"
	assert_contains "$W/r.body" "<EnrollmentVersion>4.0</EnrollmentVersion>"
	assert_contains "$W/r.body" "<EnrollmentServiceUrl>$BASE/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc</EnrollmentServiceUrl>"
	assert_contains "$W/r.body" "<EnrollmentPolicyServiceUrl>$BASE/EnrollmentServer/PolicyEnrollmentWebservice.svc</EnrollmentPolicyServiceUrl>"
	python3 "$VECTORS/../tools/soap-body" "$W/r.body" >"$W/body.xml"
	xmllint --noout --schema "$VECTORS/schemas/ms-mde2-discovery.xsd" "$W/body.xml" 2>"$W/xsd.err" ||
		fail "DiscoverResponse does not validate: $(cat "$W/xsd.err")"
}

t_discovery_replay_windows_phone81() {
	have_vectors || return 0
	local code; code=$(soap_post "$BASE/EnrollmentServer/Discovery.svc" "$VECTORS/windows/wso2_wp81_01_discovery_request.xml" "$W/r")
	assert_eq "$code" 200 "status"
	assert_contains "$W/r.body" "<EnrollmentServiceUrl>$BASE/EnrollmentServer/DeviceEnrollmentWebservice.svc</EnrollmentServiceUrl>"
	assert_not_contains "$W/r.body" "<EnrollmentVersion>" "MS-MDE answer has no EnrollmentVersion"
	assert_contains "$W/r.body" "<AuthPolicy>OnPremise</AuthPolicy>"
}

# RequestVersion from 1.0 to beyond today's: highest supported not above the request
t_discovery_versions() {
	have_vectors || return 0
	local v want
	for v in 1.0:- 2.0:- 3.0:3.0 4.0:4.0 5.0:4.0 6.0:4.0 7.0:4.0 9.0:4.0 12.5:4.0; do
		want=${v#*:}; v=${v%%:*}
		sed "s#<RequestVersion>4.0</RequestVersion>#<RequestVersion> $v </RequestVersion>#" \
			"$VECTORS/windows/fleet_w10_02_discovery_request.xml" >"$W/req.xml"
		assert_eq "$(soap_post "$BASE/EnrollmentServer/Discovery.svc" "$W/req.xml" "$W/r")" 200 "RequestVersion $v"
		if [ "$want" = - ]; then assert_not_contains "$W/r.body" "<EnrollmentVersion>" "RequestVersion $v"
		else assert_contains "$W/r.body" "<EnrollmentVersion>$want</EnrollmentVersion>" "RequestVersion $v"; fi
	done
}

t_discovery_tolerates_variants() {
	have_vectors || return 0
	# trailing-slash namespace, empty EmailAddress, domain\user, Federated only
	sed -e 's#2012/01/enrollment">#2012/01/enrollment/">#' -e 's#<EmailAddress>[^<]*#<EmailAddress>#' \
		-e 's#<AuthPolicy>OnPremise</AuthPolicy>##' \
		"$VECTORS/windows/fleet_w10_02_discovery_request.xml" >"$W/req.xml"
	assert_eq "$(soap_post "$BASE/EnrollmentServer/Discovery.svc" "$W/req.xml" "$W/r")" 200 "variant request"
	assert_contains "$W/r.body" "<AuthPolicy>Federated</AuthPolicy>"
	assert_contains "$W/r.body" "<AuthenticationServiceUrl>$BASE/EnrollmentServer/Auth</AuthenticationServiceUrl>"
	sed -e 's#<EmailAddress>[^<]*#<EmailAddress>CORP\\alice#' \
		"$VECTORS/windows/fleet_w10_02_discovery_request.xml" >"$W/req2.xml"
	assert_eq "$(soap_post "$BASE/EnrollmentServer/Discovery.svc" "$W/req2.xml" "$W/r2")" 200 "domain\\user"
}

t_discovery_refuses_unoffered_policy() {
	have_vectors || return 0
	sed -e 's#<AuthPolicy>OnPremise</AuthPolicy>#<AuthPolicy>Certificate</AuthPolicy>#' \
		-e 's#<AuthPolicy>Federated</AuthPolicy>##' \
		"$VECTORS/windows/fleet_w10_02_discovery_request.xml" >"$W/req.xml"
	assert_fault "$W/r" "$(soap_post "$BASE/EnrollmentServer/Discovery.svc" "$W/req.xml" "$W/r")" 500 MessageFormat
	assert_contains "$W/r.body" "urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478" "fault RelatesTo"
}
