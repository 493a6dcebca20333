# Replays of real device request bodies (Windows 10 21H1, Windows Phone 8.1) with our own
# user and domain substituted: GetPolicies, RequestSecurityToken, and checks of the answers.

# w10_request FILE USER PASSWORD > out: the Fleet capture with our credentials
w10_request() {
	sed -e "s#<wsse:Username>[^<]*#<wsse:Username>$2#" \
		-e "s#\\(<wsse:Password[^>]*>\\)[^<]*#\\1$3#" "$VECTORS/windows/$1"
}

t_replay_windows10_getpolicies() {
	have_vectors || return 0
	create_user replay10@example.com 'Pa55word!x' || fail "create user"
	w10_request fleet_w10_04_getpolicies_request_onpremise_usernametoken.xml replay10@example.com 'Pa55word!x' >"$W/req.xml"
	local code; code=$(soap_post "$BASE/EnrollmentServer/PolicyEnrollmentWebservice.svc" "$W/req.xml" "$W/r")
	assert_eq "$code" 200 "status"
	assert_contains "$W/r.body" "IPolicy/GetPoliciesResponse</a:Action>"
	assert_contains "$W/r.body" "<minimalKeyLength>2048</minimalKeyLength>"
	assert_contains "$W/r.body" "<keyUsageProperty>3</keyUsageProperty>" "key usage: sign + decrypt"
	assert_contains "$W/r.body" "<validityPeriodSeconds>31536000</validityPeriodSeconds>"
	assert_contains "$W/r.body" "<renewalPeriodSeconds>5184000</renewalPeriodSeconds>"
	assert_contains "$W/r.body" "2.16.840.1.101.3.4.2.1"
	python3 "$VECTORS/../tools/soap-body" "$W/r.body" >"$W/body.xml"
	xmllint --noout --schema "$VECTORS/schemas/ms-xcep.xsd" "$W/body.xml" 2>"$W/xsd.err" ||
		fail "GetPoliciesResponse does not validate: $(cat "$W/xsd.err")"
	# wrong password: Authentication fault, RelatesTo kept
	w10_request fleet_w10_04_getpolicies_request_onpremise_usernametoken.xml replay10@example.com wrong >"$W/bad.xml"
	assert_fault "$W/b" "$(soap_post "$BASE/EnrollmentServer/PolicyEnrollmentWebservice.svc" "$W/bad.xml" "$W/b")" 500 Authentication
	assert_contains "$W/b.body" "<a:RelatesTo>urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0</a:RelatesTo>"
}

t_replay_windows10_enrollment() {
	have_vectors || return 0
	create_user replay10@example.com 'Pa55word!x' || fail "create user"
	redis DEL mdm:dev:B5B954E81FBCB94EB79BD08BE625F4EE >/dev/null
	w10_request fleet_w10_06_rst_request_pkcs10.xml replay10@example.com 'Pa55word!x' >"$W/req.xml"
	local code; code=$(soap_post "$BASE/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc" "$W/req.xml" "$W/r")
	assert_eq "$code" 200 "status"
	assert_contains "$W/r.body" "enrollment/RSTRC/wstep</a:Action>"
	assert_contains "$W/r.body" "<a:RelatesTo>urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749</a:RelatesTo>"
	assert_contains "$W/r.body" 'ValueType="http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentProvisionDoc"'
	# the provisioning document: decode and check what a real client needs
	python3 - "$W/r.body" "$W/doc.xml" <<'PY' || fail "cannot decode the provisioning document"
import base64, re, sys
body = open(sys.argv[1]).read()
tok = re.search(r'DeviceEnrollmentProvisionDoc"[^>]*>([^<]+)<', body).group(1)
assert '\n' not in tok and ' ' not in tok
open(sys.argv[2], 'wb').write(base64.b64decode(tok))
PY
	xmllint --noout "$W/doc.xml" || fail "provisioning document is not well-formed"
	python3 - "$W/doc.xml" "$CA" "$VECTORS/windows/fleet_w10_06_rst_csr_pkcs10.der" <<'PY' >"$W/check.txt" 2>&1 || fail "provisioning document checks: $(cat "$W/check.txt")"
import base64, hashlib, subprocess, sys, xml.etree.ElementTree as ET
doc = ET.parse(sys.argv[1]).getroot()
def ch(node, t):
    for c in node.findall('characteristic'):
        if c.get('type') == t: return c
    raise SystemExit('missing characteristic ' + t)
store = ch(doc, 'CertificateStore')
root = ch(ch(store, 'Root'), 'System')[0]
rder = base64.b64decode(root.find('parm').get('value'))
assert hashlib.sha1(rder).hexdigest().upper() == root.get('type'), 'root thumbprint'
ca = subprocess.run(['openssl', 'x509', '-outform', 'DER', '-in', sys.argv[2]], capture_output=True).stdout
assert ca == rder, 'root is our CA'
user = ch(ch(store, 'My'), 'User')
certnode = [c for c in user.findall('characteristic') if c.get('type') != 'PrivateKeyContainer'][0]
ch(user, 'PrivateKeyContainer')
cder = base64.b64decode(certnode.find('parm').get('value'))
assert hashlib.sha1(cder).hexdigest().upper() == certnode.get('type'), 'client thumbprint'
open(sys.argv[1] + '.crt.der', 'wb').write(cder)
txt = subprocess.run(['openssl', 'x509', '-inform', 'DER', '-noout', '-text', '-in', sys.argv[1] + '.crt.der'], capture_output=True, text=True).stdout
assert 'CN = B5B954E81FBCB94EB79BD08BE625F4EE' in txt, 'CN is the DeviceID'
assert 'TLS Web Client Authentication' in txt, 'EKU clientAuth'
assert 'CA:FALSE' in txt and 'Digital Signature, Key Encipherment' in txt, 'KU/BC'
assert 'X509v3 Subject Key Identifier' in txt and 'X509v3 Authority Key Identifier' in txt
csrpub = subprocess.run(['openssl', 'req', '-inform', 'DER', '-in', sys.argv[3], '-noout', '-pubkey'], capture_output=True, text=True).stdout
certpub = subprocess.run(['openssl', 'x509', '-inform', 'DER', '-in', sys.argv[1] + '.crt.der', '-noout', '-pubkey'], capture_output=True, text=True).stdout
assert csrpub == certpub and csrpub, 'certificate carries the CSR key'
app = ch(doc, 'APPLICATION')
parms = {p.get('name'): p.get('value') for p in app.findall('parm')}
assert parms['APPID'] == 'w7' and parms['ADDR'].startswith('https://') and parms['ADDR'].endswith('/ManagementServer/MDM.svc')
assert parms['DEFAULTENCODING'] == 'application/vnd.syncml.dm+xml'
assert parms['SSLCLIENTCERTSEARCHCRITERIA'] == 'Subject=CN%3DB5B954E81FBCB94EB79BD08BE625F4EE&Stores=My%5CUser', parms['SSLCLIENTCERTSEARCHCRITERIA']
prov = ch(ch(doc, 'DMClient'), 'Provider')
ch(prov, parms['PROVIDER-ID'])
print('ok')
PY
	api GET /api/v1/devices/B5B954E81FBCB94EB79BD08BE625F4EE; local rec=$API_BODY
	assert_eq "$API_STATUS" 200 "device recorded"
	assert_contains "$rec" '"hwdevid":"3B3ED6D0EA88CBFCF37D36F90F22FE61172348C0162FC3840D6703149870CE76"'
	assert_contains "$rec" '"user":"replay10@example.com"'
	assert_contains "$rec" '"device_name":"DESKTOP-28FGAI6"'
	assert_contains "$rec" '"os_version":"10.0.19043.2364"'
	assert_contains "$rec" '"enrollment_type":"Full"'
	local thumb; thumb=$(openssl x509 -inform DER -in "$W/doc.xml.crt.der" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
	assert_contains "$rec" "\"thumbprint\":\"$thumb\"" "device record has the issued thumbprint"
	assert_eq "$(redis HGET mdm:cert:$thumb state)" active "certificate record"
}

# Windows Phone 8.1: Federated token in the header (the WSO2 templates), its own endpoint
t_replay_windows_phone81_federated() {
	have_vectors || return 0
	create_user wp81@example.com 'Pa55word!x' || fail "create user"
	local token
	token=$(curl -s --cacert "$CA" --data-urlencode "appru=ms-app://windows.immersivecontrolpanel" \
		--data-urlencode "username=wp81@example.com" --data-urlencode "password=Pa55word!x" \
		"$BASE/EnrollmentServer/Auth" | sed -n 's/.*name="wresult" value="\([^"]*\)".*/\1/p')
	[ -n "$token" ] || { fail "no wresult token from the login page"; return; }
	local b64; b64=$(printf '%s' "$token" | base64 -w0)
	sed "s#{BinarySecurityToken}#$b64#" "$VECTORS/windows/wso2_wp81_03_getpolicies_request_template.xml" >"$W/gp.xml"
	assert_eq "$(soap_post "$BASE/EnrollmentServer/PolicyEnrollmentWebservice.svc" "$W/gp.xml" "$W/gp")" 200 "GetPolicies with token"
	sed "s#{BinarySecurityToken}#$b64#" "$VECTORS/windows/wso2_wp81_04_rst_request_pkcs10.xml" >"$W/rst.xml"
	assert_eq "$(soap_post "$BASE/EnrollmentServer/DeviceEnrollmentWebservice.svc" "$W/rst.xml" "$W/rst")" 200 "RST with token"
	assert_contains "$W/rst.body" "DeviceEnrollmentProvisionDoc"
	api GET /api/v1/devices/B1C43CD0-1624-5FBB-8E54-34CF17DFD3A1; local rec=$API_BODY
	assert_eq "$API_STATUS" 200 "Windows Phone 8.1 device recorded under the CSR's device id"
	assert_contains "$rec" '"auth":"federated"'
	assert_contains "$rec" '"device_type":"WindowsPhone"'
	# the login token is single use
	local n; n=$(device_count)
	assert_fault "$W/again" "$(soap_post "$BASE/EnrollmentServer/DeviceEnrollmentWebservice.svc" "$W/rst.xml" "$W/again")" 500 Authentication
	assert_contains "$W/again.body" "already used"
	assert_eq "$(device_count)" "$n" "nothing written by a refused enrollment"
	# an expired token (correctly signed with the server key, exp in the past) is refused
	local expired; expired=$(python3 - "$MDM_DATA_DIR/token.key" <<'PY'
import base64, hashlib, hmac, json, sys, time
key = open(sys.argv[1], 'rb').read()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b'=').decode()
now = int(time.time())
claims = json.dumps({"exp": now - 60, "iat": now - 960, "jti": "e" * 32, "upn": "wp81@example.com"},
                    separators=(',', ':'), sort_keys=True).encode()
signing = "v1." + b64(claims)
print(signing + "." + b64(hmac.new(key, signing.encode(), hashlib.sha256).digest()))
PY
)
	sed "s#{BinarySecurityToken}#$(printf '%s' "$expired" | base64 -w0)#" "$VECTORS/windows/wso2_wp81_03_getpolicies_request_template.xml" >"$W/exp.xml"
	assert_fault "$W/e" "$(soap_post "$BASE/EnrollmentServer/PolicyEnrollmentWebservice.svc" "$W/exp.xml" "$W/e")" 500 Authentication
	assert_contains "$W/e.body" "expired"
	# a tampered token is refused
	local bad; bad=$(printf '%sx' "$token" | base64 -w0)
	sed "s#{BinarySecurityToken}#$bad#" "$VECTORS/windows/wso2_wp81_04_rst_request_pkcs10.xml" >"$W/tamper.xml"
	assert_fault "$W/t" "$(soap_post "$BASE/EnrollmentServer/DeviceEnrollmentWebservice.svc" "$W/tamper.xml" "$W/t")" 500 Authentication
}

t_replay_windows11_csr() {
	have_vectors || return 0
	create_user replay11@example.com 'Pa55word!x' || fail "create user"
	local csr; csr=$(base64 -w0 "$VECTORS/windows/fleet_w11_mdmtest_csr_pkcs10.der")
	w10_request fleet_w10_06_rst_request_pkcs10.xml replay11@example.com 'Pa55word!x' |
		python3 -c "import re,sys; s=sys.stdin.read(); s=re.sub(r'(#PKCS10\"[^>]*>)[^<]+', lambda m: m.group(1)+'$csr', s); s=s.replace('B5B954E81FBCB94EB79BD08BE625F4EE','8090C8B484A0E24EB5C56E806CB4EE5B').replace('3B3ED6D0EA88CBFCF37D36F90F22FE61172348C0162FC3840D6703149870CE76','AB'*32); print(s)" >"$W/req.xml"
	assert_eq "$(soap_post "$BASE/EnrollmentServer/Win10DeviceEnrollmentWebservice.svc" "$W/req.xml" "$W/r")" 200 "Windows 11 CSR (UTF8String CN, sha256)"
	api GET /api/v1/devices/8090C8B484A0E24EB5C56E806CB4EE5B
	assert_eq "$API_STATUS" 200 "device recorded"
}
