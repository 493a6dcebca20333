# Bad input: every refusal is protocol-correct (SOAP fault with the MS-MDE2 subcode, HTTP
# 4xx for non-SOAP routes) and changes nothing in Redis.

# state_digest: a fingerprint of everything the server stores
# (failed sign-in counters, mdm:fail:*, are throttling bookkeeping and may change)
state_digest() {
	redis EVAL "local o = {}
local function sorted(t) table.sort(t) return table.concat(t, '|') end
for _, k in ipairs(redis.call('KEYS', 'mdm:*')) do
  if not k:find('^mdm:fail:') then
    local t, v = redis.call('TYPE', k).ok, ''
    if t == 'hash' then v = sorted(redis.call('HGETALL', k))
    elseif t == 'string' then v = redis.call('GET', k)
    elseif t == 'list' then v = table.concat(redis.call('LRANGE', k, 0, -1), '|')
    elseif t == 'set' then v = sorted(redis.call('SMEMBERS', k))
    elseif t == 'zset' then v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), '|') end
    o[#o + 1] = k .. '=' .. redis.sha1hex(v)
  end
end
table.sort(o)
return redis.sha1hex(table.concat(o, ','))" 0
}

rst_for() { # USER PASSWORD > file: the Windows 10 RST with our credentials
	sed -e "s#<wsse:Username>[^<]*#<wsse:Username>$1#" \
		-e "s#\\(<wsse:Password[^>]*>\\)[^<]*#\\1$2#" "$VECTORS/windows/fleet_w10_06_rst_request_pkcs10.xml"
}

ENROLL_URL_PATH=/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc

# expect_refusal NAME FILE STATUS SUBCODE [PATH]
expect_refusal() {
	local before after code
	before=$(state_digest)
	code=$(soap_post "$BASE${5:-$ENROLL_URL_PATH}" "$2" "$W/$1")
	assert_fault "$W/$1" "$code" "$3" "$4"
	after=$(state_digest)
	assert_eq "$after" "$before" "$1: state unchanged"
}

t_errors_soap_bad_input() {
	have_vectors || return 0
	create_user errors@example.com 'Pa55word!x' || fail "create user"
	printf '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><oops' >"$W/malformed.xml"
	expect_refusal malformed "$W/malformed.xml" 500 MessageFormat
	cat >"$W/dtd.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&lol2;</x></s:Body></s:Envelope>
X
	expect_refusal dtd "$W/dtd.xml" 500 MessageFormat
	cat >"$W/xxe.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><x>&xxe;</x></s:Body></s:Envelope>
X
	expect_refusal xxe "$W/xxe.xml" 500 MessageFormat
	assert_not_contains "$W/xxe.body" "root:" "no entity expansion"
	rst_for errors@example.com 'Pa55word!x' | sed 's#<wst:RequestType>[^<]*</wst:RequestType>##' >"$W/noreqtype.xml"
	expect_refusal missing_element "$W/noreqtype.xml" 500 MessageFormat
	rst_for errors@example.com 'Pa55word!x' | sed 's#<ac:ContextItem Name="DeviceID">#<ac:ContextItem Name="Nope">#' >"$W/nodevid.xml"
	expect_refusal missing_deviceid "$W/nodevid.xml" 500 MessageFormat
	rst_for errors@example.com 'wrong-password' >"$W/wrongpw.xml"
	expect_refusal wrong_password "$W/wrongpw.xml" 500 Authentication
	rst_for nobody@example.com 'Pa55word!x' >"$W/nouser.xml"
	expect_refusal unknown_user "$W/nouser.xml" 500 Authentication
	# CSR whose signature does not verify: flip one base64 character near the end
	rst_for errors@example.com 'Pa55word!x' | python3 -c "
import re,sys
s=sys.stdin.read()
m=re.search(r'#PKCS10\"[^>]*>([^<]+)<', s); b=m.group(1)
i=len(b)-20; c='A' if b[i]!='A' else 'B'
print(s[:m.start(1)]+b[:i]+c+b[i+1:]+s[m.end(1):])" >"$W/badsig.xml"
	expect_refusal bad_csr_signature "$W/badsig.xml" 500 CertificateRequest
	# a 1024-bit key is below the policy minimum
	openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj /CN=small -outform DER -out "$W/small.der" 2>/dev/null
	local small; small=$(base64 -w0 "$W/small.der")
	rst_for errors@example.com 'Pa55word!x' | python3 -c "
import re,sys; s=sys.stdin.read(); print(re.sub(r'(#PKCS10\"[^>]*>)[^<]+', lambda m: m.group(1)+'$small', s))" >"$W/small.xml"
	expect_refusal small_key "$W/small.xml" 500 CertificateRequest
	assert_contains "$W/small_key.body" "1024"
	# no credentials at all
	rst_for errors@example.com '' >"$W/nocred.xml"
	expect_refusal no_credentials "$W/nocred.xml" 500 Authentication
	# GetPolicies must authenticate too
	sed -e "s#<wsse:Username>[^<]*#<wsse:Username>errors@example.com#" \
		"$VECTORS/windows/fleet_w10_04_getpolicies_request_onpremise_usernametoken.xml" >"$W/gpbad.xml"
	expect_refusal policy_wrong_password "$W/gpbad.xml" 500 Authentication /EnrollmentServer/PolicyEnrollmentWebservice.svc
	# a Discover body sent to the enrollment service is a format error, not a crash
	expect_refusal wrong_body "$VECTORS/windows/fleet_w10_02_discovery_request.xml" 500 MessageFormat
}

t_errors_body_too_large() {
	local before; before=$(state_digest)
	python3 -c "print('<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>' + 'x'*300000 + '</s:Body></s:Envelope>')" >"$W/big.xml"
	local code; code=$(soap_post "$BASE$ENROLL_URL_PATH" "$W/big.xml" "$W/big")
	assert_eq "$code" 413 "oversized body"
	assert_contains "$W/big.body" ":MessageFormat</s:Value>" "413 carries a SOAP fault"
	# the same without Content-Length (chunked upload) is capped too
	code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
		-H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$W/big.xml" "$BASE$ENROLL_URL_PATH")
	assert_eq "$code" 413 "oversized chunked body"
	assert_eq "$(state_digest)" "$before" "state unchanged"
}

t_errors_unknown_path_and_method() {
	local code
	code=$(curl -s --cacert "$CA" -o "$W/nf.body" -w '%{http_code}' "$BASE/EnrollmentServer/Nope.svc")
	assert_eq "$code" 404 "unknown path"
	code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -X DELETE "$BASE/EnrollmentServer/Discovery.svc")
	assert_eq "$code" 405 "wrong method"
	# the management path is not served on the enrollment listener
	code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -d x "$BASE/ManagementServer/MDM.svc")
	assert_eq "$code" 404 "management path on the enrollment listener"
}

t_errors_admin_api() {
	local before; before=$(state_digest)
	API_TOKEN=wrong-token-wrong-token api POST /api/v1/users '{"email":"x@example.com","password":"12345678"}'
	assert_eq "$API_STATUS" 401 "wrong token"
	local code; code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -d '{"email":"x@example.com","password":"12345678"}' "$BASE/api/v1/users")
	assert_eq "$code" 401 "missing token"
	api POST /api/v1/users '{"email":"x@example.com"'
	assert_eq "$API_STATUS" 400 "truncated JSON"
	assert_contains "$API_BODY" '"code":"bad_request"'
	api POST /api/v1/users '{"email":"x@example.com","password":"12345678","admin":true}'
	assert_eq "$API_STATUS" 400 "unknown field"
	api POST /api/v1/users '{"email":"not-an-email","password":"12345678"}'
	assert_eq "$API_STATUS" 400 "bad email"
	api POST /api/v1/users '{"email":"x@example.com","password":"short"}'
	assert_eq "$API_STATUS" 400 "short password"
	api POST /api/v1/pre-enrollments '{"email":"x@example.com","ttl_seconds":5}'
	assert_eq "$API_STATUS" 400 "ttl too small"
	api GET /api/v1/devices/NoSuchDevice
	assert_eq "$API_STATUS" 404 "unknown device"
	api DELETE /api/v1/users
	assert_eq "$API_STATUS" 405 "method not allowed"
	api GET /api/v1/nothing
	assert_eq "$API_STATUS" 404 "unknown API path"
	assert_eq "$(state_digest)" "$before" "state unchanged by refused API calls"
	api POST /api/v1/users '{"email":"dup@example.com","password":"12345678"}'
	assert_eq "$API_STATUS" 201 "create"
	api POST /api/v1/users '{"email":"DUP@example.com","password":"12345678"}'
	assert_eq "$API_STATUS" 409 "duplicate (case-insensitive)"
}

t_errors_redis_down() {
	have_vectors || return 0
	create_user redisdown@example.com 'Pa55word!x' || fail "create user"
	local n; n=$(device_count)
	stop_proc redis
	rst_for redisdown@example.com 'Pa55word!x' >"$W/rst.xml"
	local code; code=$(soap_post "$BASE$ENROLL_URL_PATH" "$W/rst.xml" "$W/down")
	assert_fault "$W/down" "$code" 503 InternalServiceFault
	assert_contains "$W/down.head" "Retry-After:"
	api GET /api/v1/devices
	assert_eq "$API_STATUS" 503 "admin API with Redis down"
	start_redis
	assert_eq "$(device_count)" "$n" "nothing half-written"
	code=$(soap_post "$BASE$ENROLL_URL_PATH" "$W/rst.xml" "$W/up")
	assert_eq "$code" 200 "enrollment works again once Redis is back"
}

t_errors_signin_throttled() {
	have_vectors || return 0
	create_user throttle@example.com 'Pa55word!x' || fail "create user"
	rst_for throttle@example.com 'wrong' >"$W/bad.xml"
	rst_for throttle@example.com 'Pa55word!x' >"$W/good.xml"
	for i in $(seq 1 10); do soap_post "$BASE$ENROLL_URL_PATH" "$W/bad.xml" "$W/b$i" >/dev/null; done
	local n; n=$(device_count)
	assert_fault "$W/g" "$(soap_post "$BASE$ENROLL_URL_PATH" "$W/good.xml" "$W/g")" 500 Authentication
	assert_contains "$W/g.body" "too many failed sign-ins"
	# the federated login page shares the same counter
	local code; code=$(curl -s --cacert "$CA" -o "$W/page.html" -w '%{http_code}' \
		--data-urlencode "appru=ms-app://windows.immersivecontrolpanel" \
		--data-urlencode "username=throttle@example.com" --data-urlencode "password=Pa55word!x" \
		"$BASE/EnrollmentServer/Auth")
	assert_eq "$code" 401 "login page throttled too"
	assert_contains "$W/page.html" "Too many failed sign-ins"
	assert_eq "$(device_count)" "$n" "nothing enrolled"
	# other accounts are not affected
	create_user throttle2@example.com 'Pa55word!x' || fail "create user"
	rst_for throttle2@example.com 'Pa55word!x' >"$W/other.xml"
	assert_eq "$(soap_post "$BASE$ENROLL_URL_PATH" "$W/other.xml" "$W/o")" 200 "another account signs in"
}
