# Admin API of docs/api-contract.md: accounts, logins (throttled), sessions and API tokens
# with roles checked on every route, groups, users and pre-enrollments, device filters
# and cursors, the audit log, counters, and a 100,000-device index check.

# aa_as TOKEN METHOD PATH [JSON]: api with another token ("" = no Authorization header)
aa_as() {
	local tok=$1; shift
	if [ -z "$tok" ]; then
		local out="$E2E_OUT/api.$$"
		API_STATUS=$(curl -s --cacert "$CA" -o "$out" -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$BASE$2")
		API_BODY=$(cat "$out")
	else
		API_TOKEN=$tok api "$@"
	fi
}
aa_get() { json_get "$1" <<<"$API_BODY"; }
# aa_eval EXPR: a Python expression over d, the last answer
aa_eval() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$API_BODY"; }

# aa_admin EMAIL ROLE: creates a console account (password Adm1n-pass!)
aa_admin() {
	api POST /api/v1/admins "{\"email\":\"$1\",\"password\":\"Adm1n-pass!\",\"role\":\"$2\"}"
	[ "$API_STATUS" = 201 ] || fail "create administrator $1: $API_STATUS $API_BODY"
}

# aa_login EMAIL [PASSWORD]: sets API_STATUS/API_BODY and AA_SESSION
aa_login() {
	aa_as "" POST /api/v1/login "{\"email\":\"$1\",\"password\":\"${2:-Adm1n-pass!}\"}"
	AA_SESSION=$(json_get '.get("token", "")' <<<"$API_BODY" 2>/dev/null)
}

# aa_enroll DIR EMAIL [sim options]: a simulated device; echoes its id
aa_enroll() {
	local dir=$1 email=$2; shift 2
	create_user "$email" 'Pa55word!x' || return 1
	sim enroll --url "$BASE" --cacert "$CA" --out "$dir" --auth onprem --email "$email" \
		--password 'Pa55word!x' "$@" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; return 1; }
	json_get '["device_id"]' <"$dir/enrollment.json"
}

# aa_audit_has ACTION TARGET: the newest events of that action include TARGET
aa_audit_has() {
	api GET "/api/v1/audit?action=$1&limit=500"
	assert_eq "$API_STATUS" 200 "audit for $1"
	assert_contains "$(aa_eval '[e["target"] for e in d["events"]]')" "'$2'" "audit $1 $2"
}

aa_hash() { printf '%s' "$1" | sha256sum | cut -c1-64; }

t_api_admin_accounts_sessions_and_logout() {
	aa_admin aa-root@example.com admin
	aa_admin aa-viewer@example.com read-only
	api POST /api/v1/admins '{"email":"AA-ROOT@example.com","password":"Adm1n-pass!","role":"admin"}'
	assert_eq "$API_STATUS" 409 "duplicate administrator (case-insensitive)"
	assert_contains "$API_BODY" '"code":"conflict"'
	api POST /api/v1/admins '{"email":"aa-x@example.com","password":"Adm1n-pass!","role":"root"}'
	assert_eq "$API_STATUS" 400 "unknown role"
	api POST /api/v1/admins '{"email":"aa-x@example.com","password":"short","role":"admin"}'
	assert_eq "$API_STATUS" 400 "short password"
	api POST /api/v1/admins '{"email":"aa-x@example.com","password":"Adm1n-pass!","role":"admin","super":true}'
	assert_eq "$API_STATUS" 400 "unknown field"
	assert_contains "$API_BODY" 'super'
	api GET /api/v1/admins
	assert_eq "$API_STATUS" 200
	assert_contains "$API_BODY" '{"email":"aa-root@example.com","role":"admin","created_at":'
	assert_contains "$API_BODY" '"email":"aa-viewer@example.com","role":"read-only"'
	assert_not_contains "$API_BODY" 'pwhash'

	# login: a session token with the account's role, 12 h by default
	local now; now=$(date +%s)
	aa_login AA-Root@Example.com
	assert_eq "$API_STATUS" 200 "login: $API_BODY"
	assert_eq "$(aa_get '["role"]')" admin
	assert_eq "$(aa_get '["email"]')" aa-root@example.com
	local exp; exp=$(aa_get '["expires_at"]')
	assert_eq "$(( exp - now >= 43190 && exp - now <= 43210 ))" 1 "12 hours: $exp - $now"
	local root=$AA_SESSION
	assert_eq "${#root}" 64 "token length"
	assert_eq "$(redis EXISTS "mdm:asess:$(aa_hash "$root")")" 1 "stored by hash"
	assert_eq "$(redis KEYS "mdm:asess:$root" | wc -w)" 0 "never stored in clear"
	aa_as "$root" GET /api/v1/me
	assert_eq "$API_STATUS" 200
	assert_eq "$API_BODY" "{\"kind\":\"session\",\"role\":\"admin\",\"email\":\"aa-root@example.com\",\"expires_at\":$exp}"
	aa_as "$root" POST /api/v1/users '{"email":"aa-by-session@example.com","password":"12345678"}'
	assert_eq "$API_STATUS" 201 "an admin session changes things"
	api GET /api/v1/me
	assert_eq "$API_BODY" '{"kind":"bootstrap","role":"admin"}' "bootstrap token"

	# wrong password, unknown account: the same 401
	aa_login aa-root@example.com 'wrong-password'
	assert_eq "$API_STATUS" 401 "wrong password"
	assert_contains "$API_BODY" '{"error":{"code":"authentication","message":"wrong email or password"}}'
	aa_login aa-nobody@example.com
	assert_eq "$API_STATUS" 401 "unknown account"
	assert_contains "$API_BODY" 'wrong email or password'
	aa_login aa-root@example.com
	local other=$AA_SESSION

	# logout invalidates that session only
	aa_as "$root" POST /api/v1/logout
	assert_eq "$API_STATUS" 204 "logout"
	assert_eq "$API_BODY" "" "no body"
	aa_as "$root" GET /api/v1/me
	assert_eq "$API_STATUS" 401 "logged out"
	assert_eq "$(redis EXISTS "mdm:asess:$(aa_hash "$root")")" 0
	aa_as "$other" GET /api/v1/me
	assert_eq "$API_STATUS" 200 "the other session lives on"

	# an expired session is refused (the TTL is the lifetime)
	local ttl; ttl=$(redis TTL "mdm:asess:$(aa_hash "$other")")
	assert_eq "$(( ttl >= 43190 && ttl <= 43200 ))" 1 "TTL = MDM_SESSION_HOURS: $ttl"
	redis PEXPIRE "mdm:asess:$(aa_hash "$other")" 1 >/dev/null; sleep 0.05
	aa_as "$other" GET /api/v1/devices
	assert_eq "$API_STATUS" 401 "expired session"

	# deleting an account ends its sessions
	aa_login aa-viewer@example.com
	local viewer=$AA_SESSION
	aa_as "$viewer" GET /api/v1/me
	assert_eq "$(aa_get '["role"]')" read-only
	api DELETE /api/v1/admins/aa-viewer@example.com
	assert_eq "$API_STATUS" 204 "delete administrator"
	aa_as "$viewer" GET /api/v1/me
	assert_eq "$API_STATUS" 401 "session of a deleted account"
	api DELETE /api/v1/admins/aa-viewer@example.com
	assert_eq "$API_STATUS" 404 "deleted twice"
	aa_login aa-viewer@example.com
	assert_eq "$API_STATUS" 401 "a deleted account cannot log in"

	# every login is in the audit log, with where it came from
	api GET "/api/v1/audit?actor=aa-root@example.com&action=login&limit=5"
	assert_eq "$(aa_get '["events"][0]["remote_addr"]')" 127.0.0.1 "login from"
	assert_eq "$(aa_get '["events"][0]["role"]')" admin
	api GET "/api/v1/audit?actor=aa-root@example.com&action=login.failed&limit=5"
	assert_eq "$(aa_get '["events"][0]["detail"]["reason"]')" "wrong password"
	assert_eq "$(aa_get '["events"][0]["detail"]["status"]')" 401
	api GET "/api/v1/audit?actor=aa-nobody@example.com"
	assert_eq "$(aa_get '["events"][0]["detail"]["reason"]')" "unknown account"
	api GET "/api/v1/audit?actor=aa-root@example.com&action=logout"
	assert_eq "$(aa_get '["events"].__len__()')" 1 "logout recorded"
	api GET "/api/v1/audit?actor=aa-root@example.com&action=user.create"
	assert_eq "$(aa_get '["events"][0]["target"]')" aa-by-session@example.com "changes by a session name its administrator"
	aa_audit_has admin.create aa-viewer@example.com
	aa_audit_has admin.delete aa-viewer@example.com
}

t_api_admin_login_rate_limits() {
	aa_admin aa-limited@example.com admin
	aa_admin aa-bystander@example.com admin
	local i
	for i in 1 2 3 4 5; do
		aa_login aa-limited@example.com "wrong-$i"
		assert_eq "$API_STATUS" 401 "failure $i"
	done
	# the account is locked for the window, even with the right password
	local out="$W/h"
	curl -s --cacert "$CA" -D "$out" -o "$W/b" -H 'Content-Type: application/json' \
		--data-binary '{"email":"aa-limited@example.com","password":"Adm1n-pass!"}' "$BASE/api/v1/login" >/dev/null
	assert_contains "$out" "HTTP/1.1 429" "sixth attempt"
	assert_contains "$W/b" '"code":"too_many_requests"'
	assert_contains "$W/b" 'this account'
	local ra; ra=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/pi' "$out" | tr -d '\r')
	assert_eq "$(( ra > 800 && ra <= 900 ))" 1 "Retry-After is the rest of the window: $ra"
	aa_login aa-bystander@example.com
	assert_eq "$API_STATUS" 200 "another account is not locked"
	api GET "/api/v1/audit?actor=aa-limited@example.com&action=login.failed"
	assert_eq "$(aa_get '["events"][0]["detail"]["reason"]')" "throttled (account)"
	assert_eq "$(aa_get '["events"][0]["detail"]["status"]')" 429
	assert_eq "$(aa_get '["events"].__len__()')" 6 "every failed attempt recorded"
	assert_eq "$(aa_get '["events"][5]["remote_addr"]')" 127.0.0.1
	# per address: 20 failures from one address, whatever the accounts
	redis DEL "mdm:lfail:r:127.0.0.1" >/dev/null
	for i in $(seq 1 20); do
		aa_login "aa-spray-$i@example.com" nope
		[ "$API_STATUS" = 401 ] || fail "spray $i: $API_STATUS"
	done
	aa_login aa-bystander@example.com
	assert_eq "$API_STATUS" 429 "the address is throttled"
	assert_contains "$API_BODY" 'this address'
	api GET "/api/v1/audit?actor=aa-bystander@example.com&action=login.failed"
	assert_eq "$(aa_get '["events"][0]["detail"]["reason"]')" "throttled (address)"
	# leave the shared stack usable for the other tests
	redis DEL "mdm:lfail:r:127.0.0.1" "mdm:lfail:a:aa-limited@example.com" >/dev/null
	aa_login aa-limited@example.com
	assert_eq "$API_STATUS" 200 "after the window"
}

# Every route of the route table, for a read-only token, an admin token, no token.
t_api_admin_roles_on_every_route() {
	local dev; dev=$(aa_enroll "$W/dev" aa-roles@example.com) || { fail enroll; return; }
	api POST "/api/v1/devices/$dev/commands" '{"type":"lock"}'
	local cmd; cmd=$(aa_get '["id"]')
	api POST /api/v1/groups '{"name":"aa-roles"}'
	api POST /api/v1/groups/aa-roles/devices "{\"devices\":[\"$dev\"]}"
	aa_admin aa-roles-admin@example.com admin
	api POST /api/v1/pre-enrollments '{"email":"aa-roles@example.com"}'
	local pre; pre=$(aa_get '["id"]')
	api POST /api/v1/tokens '{"name":"aa reader"}'
	assert_eq "$API_STATUS" 201 "token: $API_BODY"
	assert_eq "$(aa_get '["role"]')" read-only "default role"
	local ro ro_id
	ro=$(aa_get '["token"]')
	ro_id=$(aa_get '["id"]')
	api POST /api/v1/tokens '{"name":"aa writer","role":"admin"}'
	local rw; rw=$(aa_get '["token"]')
	aa_as "$ro" GET /api/v1/me
	assert_eq "$API_BODY" "{\"kind\":\"api\",\"role\":\"read-only\",\"name\":\"aa reader\",\"id\":\"$ro_id\"}"
	# the routes, read from the registry's own table
	local routes; routes=$(sed -n 's/^\t{"\([A-Z]*\)", "\(\/api\/v1\/[^"]*\)", \(REG_ROLE_[A-Z]*\).*/\1 \2 \3/p' \
		"$E2E_ROOT/services/registry/reg_api.c")
	assert_ne "$routes" "" "route table parsed"
	local n=0 m p r path
	while read -r m p r; do
		n=$((n + 1))
		path=$(sed -e "s#/admins/\*#/admins/aa-roles-admin@example.com#" -e "s#/tokens/\*#/tokens/$ro_id#" \
			-e "s#/users/\*#/users/aa-roles@example.com#" -e "s#/pre-enrollments/\*#/pre-enrollments/$pre#" \
			-e "s#/groups/\*/devices/\*#/groups/aa-roles/devices/$dev#" -e "s#/groups/\*#/groups/aa-roles#" \
			-e "s#/devices/\*#/devices/$dev#" -e "s#/commands/\*#/commands/$cmd#" <<<"$p")
		aa_as "" "$m" "$path" '{}'
		if [ "$r" = REG_ROLE_NONE ]; then
			assert_eq "$API_STATUS" 400 "$m $p without a token reaches the handler"
		else
			assert_eq "$API_STATUS" 401 "$m $p without a token"
			assert_contains "$API_BODY" '"code":"authentication"'
		fi
		if [ "$m" = GET ]; then
			aa_as "$ro" GET "$path"
			if [ "$r" = REG_ROLE_ADMIN ]; then
				assert_eq "$API_STATUS" 403 "read-only GET $p"
			else
				assert_eq "$API_STATUS" 200 "read-only GET $p: $API_BODY"
			fi
			aa_as "$rw" GET "$path"
			assert_eq "$API_STATUS" 200 "admin token GET $p: $API_BODY"
		elif [ "$r" = REG_ROLE_ADMIN ]; then
			aa_as "$ro" "$m" "$path" '{}'
			assert_eq "$API_STATUS" 403 "read-only $m $p"
			assert_contains "$API_BODY" '{"error":{"code":"forbidden","message":"this token is read-only"}}'
		fi
	done <<<"$routes"
	assert_eq "$(( n >= 31 ))" 1 "every route checked ($n)"
	# what a read-only token may do besides reading
	aa_as "$ro" POST /api/v1/logout
	assert_eq "$API_STATUS" 204 "read-only logout (nothing to end for an API token)"
	aa_as "$ro" GET /api/v1/me
	assert_eq "$API_STATUS" 200 "an API token outlives logout"
	# nothing was changed by the refused calls
	assert_eq "$(redis EXISTS mdm:admin:aa-roles-admin@example.com)" 1
	assert_eq "$(redis SISMEMBER mdm:group:aa-roles "$dev")" 1
	api GET "/api/v1/audit?action=access.denied&actor=aa%20reader"
	assert_eq "$(( $(aa_get '["events"].__len__()') >= 10 ))" 1 "denials recorded"
	# the admin token changes things; deleting a token ends it
	aa_as "$rw" POST /api/v1/groups '{"name":"aa-by-token"}'
	assert_eq "$API_STATUS" 201 "admin API token"
	api GET "/api/v1/audit?action=group.create&actor=aa%20writer"
	assert_eq "$(aa_get '["events"][0]["target"]')" aa-by-token
	assert_eq "$(aa_get '["events"][0]["role"]')" admin
	api GET /api/v1/tokens
	assert_contains "$API_BODY" "{\"id\":\"$ro_id\",\"name\":\"aa reader\",\"role\":\"read-only\",\"created_at\":"
	assert_not_contains "$API_BODY" "$ro" "token never listed"
	api DELETE "/api/v1/tokens/$ro_id"
	assert_eq "$API_STATUS" 204 "delete token"
	aa_as "$ro" GET /api/v1/devices
	assert_eq "$API_STATUS" 401 "deleted token"
	api DELETE "/api/v1/tokens/$ro_id"
	assert_eq "$API_STATUS" 404
	aa_audit_has token.create "$ro_id"
	aa_audit_has token.delete "$ro_id"
}

t_api_admin_groups_crud() {
	local a b
	a=$(aa_enroll "$W/a" aa-grp-a@example.com) || { fail enroll; return; }
	b=$(aa_enroll "$W/b" aa-grp-b@example.com) || { fail enroll; return; }
	api POST /api/v1/groups '{"name":"AA Front desk"}'
	assert_eq "$API_STATUS" 201 "create: $API_BODY"
	assert_eq "$API_BODY" '{"name":"AA Front desk","devices":0}'
	api POST /api/v1/groups '{"name":"AA Front desk"}'
	assert_eq "$API_STATUS" 409 "exists"
	for bad in '{"name":"a/b"}' '{"name":""}' '{"name":"x<y>"}' "{\"name\":\"$(printf 'g%.0s' $(seq 65))\"}" '{"nom":"x"}'; do
		api POST /api/v1/groups "$bad"
		assert_eq "$API_STATUS" 400 "bad group $bad"
	done
	api POST "/api/v1/groups/AA%20Front%20desk/devices" "{\"devices\":[\"$a\",\"$b\"]}"
	assert_eq "$API_STATUS" 200 "add: $API_BODY"
	api GET /api/v1/groups
	assert_contains "$API_BODY" '{"name":"AA Front desk","devices":2}'
	api GET "/api/v1/devices/$a"
	assert_eq "$(aa_get '["groups"]')" "['AA Front desk']" "device detail lists its groups"
	api PATCH "/api/v1/groups/AA%20Front%20desk" '{"name":"AA-Lobby"}'
	assert_eq "$API_STATUS" 200 "rename: $API_BODY"
	assert_eq "$API_BODY" '{"name":"AA-Lobby","devices":2}'
	api GET /api/v1/groups/AA-Lobby/devices
	assert_eq "$(aa_get '["devices"]')" "$(python3 -c "print(sorted(['$a', '$b']))")" "members moved"
	api GET "/api/v1/groups/AA%20Front%20desk/devices"
	assert_eq "$(aa_get '["devices"]')" "[]" "old name empty"
	api PATCH /api/v1/groups/AA-Nothing '{"name":"AA-X"}'
	assert_eq "$API_STATUS" 404 "rename unknown"
	api POST /api/v1/groups '{"name":"AA-Other"}'
	api PATCH /api/v1/groups/AA-Lobby '{"name":"AA-Other"}'
	assert_eq "$API_STATUS" 409 "rename onto an existing group"
	api DELETE "/api/v1/groups/AA-Lobby/devices/$b"
	assert_eq "$API_STATUS" 204 "remove member"
	api DELETE "/api/v1/groups/AA-Lobby/devices/$b"
	assert_eq "$API_STATUS" 404 "not a member any more"
	api GET /api/v1/groups/AA-Lobby/devices
	assert_eq "$(aa_get '["devices"]')" "['$a']"
	# bulk commands still reach the (renamed) group
	api POST /api/v1/commands '{"group":"AA-Lobby","command":{"type":"lock"}}'
	assert_eq "$API_STATUS" 201
	assert_eq "$(aa_get '["commands"][0]["device_id"]')" "$a"
	api DELETE /api/v1/groups/AA-Lobby
	assert_eq "$API_STATUS" 204 "delete"
	api DELETE /api/v1/groups/AA-Lobby
	assert_eq "$API_STATUS" 404 "delete twice"
	api GET /api/v1/groups
	assert_not_contains "$API_BODY" '"AA-Lobby"'
	api GET "/api/v1/devices/$a"
	assert_eq "$(aa_get '["groups"]')" "[]"
	aa_audit_has group.create "AA Front desk"
	aa_audit_has group.rename "AA Front desk"
	api GET "/api/v1/audit?action=group.rename&limit=1"
	assert_eq "$(aa_get '["events"][0]["detail"]["name"]')" AA-Lobby "new name recorded"
	aa_audit_has group.add "AA Front desk"
	aa_audit_has group.remove AA-Lobby
	aa_audit_has group.delete AA-Lobby
}

t_api_admin_users_and_preenrollments() {
	create_user aa-user@example.com 'Pa55word!x' || fail "create user"
	api GET /api/v1/users
	assert_eq "$API_STATUS" 200
	assert_contains "$API_BODY" '{"email":"aa-user@example.com","created_at":'
	assert_not_contains "$API_BODY" 'pwhash'
	local id; id=$(aa_enroll "$W/before" aa-user@example.com) || fail "enroll before revoking"
	api DELETE /api/v1/users/AA-User@example.com
	assert_eq "$API_STATUS" 204 "revoke user"
	api GET /api/v1/users
	assert_not_contains "$API_BODY" 'aa-user@example.com'
	sim enroll --url "$BASE" --cacert "$CA" --out "$W/after" --auth onprem --email aa-user@example.com \
		--password 'Pa55word!x' >"$W/after.log" 2>&1
	assert_eq "$?" 2 "a revoked user cannot enroll"
	api GET "/api/v1/devices/$id"
	assert_eq "$(aa_get '["state"]')" enrolled "the enrolled device stays"
	api DELETE /api/v1/users/aa-user@example.com
	assert_eq "$API_STATUS" 404 "revoke twice"
	aa_audit_has user.revoke AA-User@example.com

	# pre-enrollments: listed without the secret, revoked by id
	api POST /api/v1/pre-enrollments '{"email":"aa-pre@example.com","device_name":"AA-KIOSK","group":"AA-Kiosks"}'
	assert_eq "$API_STATUS" 201
	local s1 p1; s1=$(aa_get '["secret"]'); p1=$(aa_get '["id"]')
	assert_eq "$p1" "$(aa_hash "$s1" | cut -c1-16)" "id = first 16 hex of the secret's hash"
	api POST /api/v1/pre-enrollments '{"email":"aa-pre@example.com"}'
	local s2 p2; s2=$(aa_get '["secret"]'); p2=$(aa_get '["id"]')
	api POST /api/v1/pre-enrollments '{"email":"aa-pre@example.com","group":"no/slash"}'
	assert_eq "$API_STATUS" 400 "group names as for groups"
	api GET /api/v1/pre-enrollments
	assert_eq "$API_STATUS" 200
	assert_not_contains "$API_BODY" "$s1" "secret never listed"
	assert_eq "$(aa_eval "[p['device_name'] for p in d['pre_enrollments'] if p['id'] == '$p1']")" "['AA-KIOSK']"
	assert_eq "$(aa_eval "[p['group'] for p in d['pre_enrollments'] if p['id'] == '$p1']")" "['AA-Kiosks']"
	assert_eq "$(aa_eval "[p['expires_at'] - p['created_at'] for p in d['pre_enrollments'] if p['id'] == '$p2']")" "[604800]"
	api DELETE "/api/v1/pre-enrollments/$p2"
	assert_eq "$API_STATUS" 204 "revoke pre-enrollment"
	api DELETE "/api/v1/pre-enrollments/$p2"
	assert_eq "$API_STATUS" 404
	local n; n=$(device_count)
	sim enroll --url "$BASE" --cacert "$CA" --out "$W/revoked" --auth preenroll --email aa-pre@example.com \
		--secret "$s2" >"$W/revoked.log" 2>&1
	assert_eq "$?" 2 "a revoked secret no longer enrolls"
	assert_eq "$(device_count)" "$n" "nothing stored"
	# the other one enrolls, into its group, and leaves the list
	sim enroll --url "$BASE" --cacert "$CA" --out "$W/pre" --auth preenroll --email aa-pre@example.com \
		--secret "$s1" >"$W/pre.log" 2>&1
	assert_eq "$?" 0 "pre-enrollment: $(cat "$W/pre.log")"
	local pid; pid=$(json_get '["device_id"]' <"$W/pre/enrollment.json")
	api GET "/api/v1/devices/$pid"
	assert_eq "$(aa_get '["groups"]')" "['AA-Kiosks']" "the pre-enrollment's group"
	assert_eq "$(aa_get '["device_name"]')" AA-KIOSK
	api GET /api/v1/pre-enrollments
	assert_not_contains "$API_BODY" "$p1" "spent: not pending any more"
	api GET /api/v1/groups
	assert_contains "$API_BODY" '{"name":"AA-Kiosks","devices":1}'
	aa_audit_has preenrollment.create "$p1"
	aa_audit_has preenrollment.revoke "$p2"
}

t_api_admin_devices_filters_detail_and_paging() {
	local a b c d
	# ids in enrollment order: devices enrolled in the same second list by id, descending
	a=$(aa_enroll "$W/a" aa-f1@example.com --device-name AA-Reception-01 --device-id AAFILTER0001) || { fail enroll; return; }
	b=$(aa_enroll "$W/b" aa-f1@example.com --device-name AA-Kiosk-02 --device-id AAFILTER0002) || { fail enroll; return; }
	c=$(aa_enroll "$W/c" aa-f2@example.com --device-name AA-KIOSK-03 --win81 --device-id AAFILTER0003) || { fail enroll; return; }
	d=$(aa_enroll "$W/d" aa-f2@example.com --device-name AA-Laptop-04 --device-id AAFILTER0004) || { fail enroll; return; }
	local before; before=$(date +%s)
	sim manage --dir "$W/b" --cacert "$CA" >"$W/b.session.log" 2>&1 || fail "session: $(tail -3 "$W/b.session.log")"
	api DELETE "/api/v1/devices/$d?force=1"
	ids() { aa_eval '[x["device_id"] for x in d["devices"]]'; }
	api GET "/api/v1/devices?user=aa-f1@example.com"
	assert_eq "$API_STATUS" 200
	assert_eq "$(ids)" "['$b', '$a']" "by user, newest first"
	assert_eq "$(aa_get '["next"]')" None
	api GET "/api/v1/devices?user=AA-F2%40example.com&state=enrolled"
	assert_eq "$(ids)" "['$c']" "user and state"
	api GET "/api/v1/devices?user=aa-f2@example.com&state=unenrolled"
	assert_eq "$(ids)" "['$d']"
	api GET "/api/v1/devices?user=aa-f2@example.com&platform=windows-8.1"
	assert_eq "$(ids)" "['$c']" "platform"
	api GET "/api/v1/devices?q=aa-kiosk"
	assert_eq "$(ids)" "['$c', '$b']" "q: case-insensitive substring of the name"
	api GET "/api/v1/devices?q=${a:4:12}"
	assert_eq "$(ids)" "['$a']" "q: substring of the DeviceID"
	api GET "/api/v1/devices?q=kiosk&platform=windows&user=aa-f1@example.com"
	assert_eq "$(ids)" "['$b']" "q with filters"
	api GET "/api/v1/devices?last_seen_after=$before&user=aa-f1@example.com"
	assert_eq "$(ids)" "['$b']" "seen since the session"
	api GET "/api/v1/devices?last_seen_before=$before&user=aa-f1@example.com"
	assert_eq "$(ids)" "[]" "never seen is not 'seen before'"
	api GET "/api/v1/devices?os_version=10.0.22631.1&user=aa-f2@example.com"
	assert_eq "$(ids)" "['$d', '$c']" "os_version"
	# paging: limit 1 walks every match once through the cursor
	local seen="" cur="" pages=0
	while :; do
		api GET "/api/v1/devices?q=aa-&user=aa-f1@example.com&limit=1${cur:+&cursor=$cur}"
		assert_eq "$API_STATUS" 200 "page $pages"
		seen="$seen $(ids)"
		cur=$(aa_get '["next"] or ""')
		pages=$((pages + 1))
		[ -n "$cur" ] && [ $pages -lt 10 ] || break
	done
	assert_eq "$seen" " ['$b'] ['$a']" "pages"
	api GET "/api/v1/devices?limit=2"
	assert_eq "$(aa_get '["devices"].__len__()')" 2
	local next; next=$(aa_get '["next"]')
	api GET "/api/v1/devices?limit=2&cursor=$next"
	assert_eq "$API_STATUS" 200 "second page"
	for bad in limit=0 limit=501 limit=x cursor=zz cursor=3a last_seen_after=yesterday; do
		api GET "/api/v1/devices?$bad"
		assert_eq "$API_STATUS" 400 "refused: $bad"
		assert_contains "$API_BODY" '"code":"bad_request"'
	done
	# the device object
	api GET "/api/v1/devices?user=aa-f1@example.com&q=kiosk"
	python3 - "$API_BODY" <<'PY' || fail "device object: $API_BODY"
import json, sys
d = json.loads(sys.argv[1])["devices"][0]
for k in ["device_id", "hwdevid", "user", "device_name", "platform", "state", "os_version", "os_edition",
          "device_type", "enrollment_type", "auth", "enrolled_at", "last_seen", "macs", "certificate",
          "inventory", "devinfo"]:
    assert k in d, k
assert isinstance(d["enrolled_at"], int) and isinstance(d["last_seen"], int)
assert isinstance(d["macs"], list)
assert set(d["certificate"]) == {"serial", "thumbprint", "not_after"} and isinstance(d["certificate"]["not_after"], int)
assert d["devinfo"]["man"] == "Contoso" and d["inventory"]["swv"], d
assert not [k for k in d if k.startswith(("inv_", "devinfo_", "cert_"))]
PY
	# detail: the latest 50 commands, newest first, and the groups
	local i
	for i in $(seq 1 52); do api POST "/api/v1/devices/$a/commands" '{"type":"reboot"}'; done
	local last; last=$(aa_get '["id"]')
	api GET "/api/v1/devices/$a"
	assert_eq "$(aa_get '["commands"].__len__()')" 50 "latest 50 commands"
	assert_eq "$(aa_get '["commands"][0]["id"]')" "$last" "newest first"
	assert_eq "$(aa_get '["groups"]')" "[]"
	aa_audit_has command.create "$a"
	aa_audit_has device.unenroll "$d"
	api GET "/api/v1/audit?action=device.unenroll&limit=1"
	assert_eq "$(aa_get '["events"][0]["detail"]["force"]')" True
}

t_api_admin_audit_log() {
	api POST /api/v1/users '{"email":"aa-audit-1@example.com","password":"12345678"}'
	api POST /api/v1/users '{"email":"aa-audit-2@example.com","password":"12345678"}'
	api POST /api/v1/users '{"email":"aa-audit-3@example.com","password":"12345678"}'
	api POST /api/v1/users '{"email":"aa-audit-3@example.com","password":"12345678"}'
	assert_eq "$API_STATUS" 409
	api GET "/api/v1/audit?action=user.create&limit=2"
	assert_eq "$API_STATUS" 200
	assert_eq "$(aa_eval '[e["target"] for e in d["events"]]')" "['aa-audit-3@example.com', 'aa-audit-2@example.com']" "newest first; the refused call is not there"
	local e; e=$(aa_get '["events"][0]')
	python3 - "$API_BODY" <<'PY' || fail "event shape: $e"
import json, sys, time
e = json.loads(sys.argv[1])["events"][0]
assert set(e) == {"id", "at", "actor", "role", "action", "target", "detail", "remote_addr"}, e
assert e["actor"] == "bootstrap" and e["role"] == "admin" and e["remote_addr"] == "127.0.0.1"
assert abs(e["at"] - time.time()) < 60 and e["detail"]["status"] == 201
PY
	local next; next=$(aa_get '["next"]')
	api GET "/api/v1/audit?action=user.create&limit=2&cursor=$next"
	assert_eq "$(aa_eval '[e["target"] for e in d["events"]][0]')" aa-audit-1@example.com "second page"
	local now; now=$(date +%s)
	api GET "/api/v1/audit?since=$((now + 3600))"
	assert_eq "$(aa_get '["events"]')" "[]" "since the future"
	api GET "/api/v1/audit?until=1000000000"
	assert_eq "$(aa_get '["events"]')" "[]" "until 2001"
	api GET "/api/v1/audit?since=$((now - 60))&actor=bootstrap&action=user.create"
	assert_contains "$(aa_eval '[e["target"] for e in d["events"]]')" aa-audit-2@example.com
	for bad in limit=0 cursor=nope since=x; do
		api GET "/api/v1/audit?$bad"
		assert_eq "$API_STATUS" 400 "refused: $bad"
	done
	# nothing changes the log through the API
	for m in POST PUT PATCH DELETE; do
		api "$m" /api/v1/audit '{}'
		assert_eq "$API_STATUS" 405 "$m /audit"
	done
	assert_eq "$(redis TYPE mdm:audit)" stream
}

t_api_admin_stats_move() {
	api GET /api/v1/stats
	assert_eq "$API_STATUS" 200
	local s0=$API_BODY
	python3 - "$s0" <<'PY' || fail "stats shape: $s0"
import json, sys, time
s = json.loads(sys.argv[1])
assert set(s) == {"devices", "enrollments", "sessions", "commands"}
assert set(s["devices"]) == {"by_state", "by_platform", "total"}
assert len(s["enrollments"]["per_hour"]) == 48 and len(s["enrollments"]["per_day"]) == 30
assert len(s["sessions"]["per_hour"]) == 48
h = s["enrollments"]["per_hour"]
assert h[-1]["t"] == int(time.time()) // 3600 * 3600 and h[-1]["t"] - h[0]["t"] == 47 * 3600
assert s["enrollments"]["per_day"][-1]["t"] % 86400 == 0
assert set(s["commands"]) == {"queued", "done", "failed"}
PY
	local id; id=$(aa_enroll "$W/dev" aa-stats@example.com) || { fail enroll; return; }
	api POST "/api/v1/devices/$id/commands" '{"type":"lock"}'
	sim manage --dir "$W/dev" --cacert "$CA" >"$W/session.log" 2>&1 || fail "session: $(tail -3 "$W/session.log")"
	api GET /api/v1/stats
	python3 - "$s0" "$API_BODY" <<'PY' || fail "counters did not move: $s0 -> $API_BODY"
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert b["devices"]["total"] - a["devices"]["total"] == 1
assert b["devices"]["by_state"]["enrolled"] - a["devices"]["by_state"].get("enrolled", 0) == 1
assert b["devices"]["by_platform"]["windows"] - a["devices"]["by_platform"].get("windows", 0) == 1
assert b["enrollments"]["per_hour"][-1]["n"] - a["enrollments"]["per_hour"][-1]["n"] >= 1
assert b["enrollments"]["per_day"][-1]["n"] - a["enrollments"]["per_day"][-1]["n"] >= 1
assert b["sessions"]["per_hour"][-1]["n"] - a["sessions"]["per_hour"][-1]["n"] >= 1
# the lock, plus the inventory the first session queues by itself, both answered 200
assert b["commands"]["queued"] - a["commands"]["queued"] == 2
assert b["commands"]["done"] - a["commands"]["done"] == 2
assert b["commands"]["failed"] == a["commands"]["failed"]
PY
	local before; before=$API_BODY
	api DELETE "/api/v1/devices/$id?force=1"
	api GET /api/v1/stats
	python3 - "$before" "$API_BODY" <<'PY' || fail "unenrollment not counted"
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert b["devices"]["by_state"]["enrolled"] == a["devices"]["by_state"]["enrolled"] - 1
assert b["devices"]["by_state"]["unenrolled"] == a["devices"]["by_state"].get("unenrolled", 0) + 1
assert b["devices"]["total"] == a["devices"]["total"]
PY
}

t_api_admin_errors_and_body_limit() {
	local big; big=$(python3 -c "print('{\"email\":\"aa-big@example.com\",\"password\":\"' + 'x' * 70000 + '\"}')")
	printf '%s' "$big" >"$W/big.json"
	local code; code=$(curl -s --cacert "$CA" -o "$W/big.out" -w '%{http_code}' -H "Authorization: Bearer $ADMIN_TOKEN" \
		-H 'Content-Type: application/json' --data-binary @"$W/big.json" "$BASE/api/v1/users")
	assert_eq "$code" 413 "body over 64 KiB"
	assert_contains "$W/big.out" '"error":{"code":"too_large"'
	assert_eq "$(redis EXISTS mdm:user:aa-big@example.com)" 0 "nothing stored"
	api POST /api/v1/login '{"email":"a@b.c"}'
	assert_eq "$API_STATUS" 400 "login without password"
	api POST /api/v1/login '{"email":"a@b.c","password":"x","otp":1}'
	assert_eq "$API_STATUS" 400 "unknown login field"
	API_TOKEN=not-a-token-not-a-token api GET /api/v1/devices
	assert_eq "$API_STATUS" 401
	assert_contains "$API_BODY" '{"error":{"code":"authentication",'
	api GET /api/v1/nothing
	assert_eq "$API_STATUS" 404
	assert_contains "$API_BODY" '{"error":{"code":"not_found",'
}

# 100,000 device records written straight into Redis the way enrollment indexes them
# (mdm_keys.h: device numbers; a bitmap for values many devices share, a sorted set for
# each user's 100), then filtered pages through the API (not timed as an assertion: the
# time is printed).
t_api_admin_scale_100k() {
	# ARGV: first i, last i, now, base device number (lower i enrolled later)
	local lua='
local n0, n1, now, base = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function bit(k, dn)
  if redis.call("TYPE", k).ok == "zset" then
    local m = redis.call("ZRANGE", k, 0, -1, "WITHSCORES")
    redis.call("DEL", k)
    for j = 2, #m, 2 do redis.call("SETBIT", k, m[j], 1) end
  end
  redis.call("SETBIT", k, dn, 1)
end
for i = n0, n1 do
  local id = string.format("SCALE-%06d", i)
  local dn = base + 100001 - i
  local platform = (i % 10 == 0) and "windows-8.1" or "windows"
  local state = (i % 20 == 0) and "unenrolled" or "enrolled"
  local user = "scale-" .. (i % 1000) .. "@example.com"
  local name = string.format("Scale-PC-%06d", i)
  local os = (i % 3 == 0) and "10.0.19045" or "10.0.22631"
  local seen = now - (i % 100) * 86400
  redis.call("HSET", "mdm:dev:" .. id, "device_id", id, "hwdevid", "HW" .. id, "user", user,
    "platform", platform, "state", state, "device_name", name, "os_version", os,
    "enrolled_at", now - 864000 - i, "last_seen", seen, "cert_thumbprint", "T" .. id,
    "cert_serial", "S", "cert_not_after", now + 86400)
  redis.call("ZADD", "mdm:devices", dn, id)
  bit("mdm:ix:s:" .. state, dn)
  bit("mdm:ix:p:" .. platform, dn)
  bit("mdm:ix:o:" .. os, dn)
  redis.call("ZADD", "mdm:ix:u:" .. user, dn, id)
  redis.call("ZADD", "mdm:ix:seen", seen, id)
  redis.call("HINCRBY", "mdm:st:state", state, 1)
  redis.call("HINCRBY", "mdm:st:platform", platform, 1)
end
return n1 - n0 + 1'
	local base; base=$(redis INCRBY mdm:ix:dn 100000)
	base=$((base - 100000))
	local now; now=$(date +%s)
	local t0; t0=$(date +%s%N)
	local i
	for i in $(seq 0 9); do
		redis EVAL "$lua" 0 $((i * 10000 + 1)) $((i * 10000 + 10000)) "$now" "$base" >/dev/null || fail "insert $i"
	done
	local t1; t1=$(date +%s%N)
	echo "    scale: 100000 device records + indexes written in $(( (t1 - t0) / 1000000 )) ms"
	assert_eq "$(redis ZCOUNT mdm:devices $((base + 1)) $((base + 100000)))" 100000 "inserted"
	q() { # LABEL QUERY: one timed API call
		local s; s=$(date +%s%N)
		api GET "/api/v1/devices?$2"
		echo "    scale: $1: $(( ($(date +%s%N) - s) / 1000000 )) ms (HTTP $API_STATUS, $(aa_get '["devices"].__len__()') devices)"
	}
	q "user (100 matches), limit 500" "user=scale-7@example.com&limit=500"
	assert_eq "$API_STATUS" 200
	python3 - "$API_BODY" <<'PY' || fail "user filter"
import json, sys
p = json.loads(sys.argv[1])
ids = [d["device_id"] for d in p["devices"]]
assert len(ids) == 100 and p["next"] is None, (len(ids), p["next"])
assert all(d["user"] == "scale-7@example.com" for d in p["devices"])
assert ids == sorted(ids), "newest enrollment first (lower i enrolled later)"
PY
	q "platform+state (5000 matches), first page of 50" "platform=windows-8.1&state=unenrolled&limit=50"
	python3 - "$API_BODY" <<'PY' || fail "platform+state filter"
import json, sys
p = json.loads(sys.argv[1])
d = p["devices"]
assert len(d) == 50 and p["next"], len(d)
assert all(x["platform"] == "windows-8.1" and x["state"] == "unenrolled" for x in d)
assert [x["device_id"] for x in d] == ["SCALE-%06d" % i for i in range(20, 1001, 20)]
PY
	local next; next=$(aa_get '["next"]')
	q "platform+state, second page" "platform=windows-8.1&state=unenrolled&limit=50&cursor=$next"
	assert_eq "$(aa_get '["devices"][0]["device_id"]')" SCALE-001020 "second page starts after the first"
	q "state=enrolled (95000), page of 500" "state=enrolled&limit=500&q=scale-pc"
	assert_eq "$(aa_get '["devices"].__len__()')" 500
	q "os + last_seen window + user" "os_version=10.0.19045&last_seen_after=$((now - 5 * 86400))&user=scale-3@example.com"
	python3 - "$API_BODY" "$now" <<'PY' || fail "os + last_seen + user"
import json, sys
p, now = json.loads(sys.argv[1]), int(sys.argv[2])
want = ["SCALE-%06d" % i for i in range(1, 100001) if i % 1000 == 3 and i % 3 == 0 and i % 100 <= 5]
assert [d["device_id"] for d in p["devices"]] == want, ([d["device_id"] for d in p["devices"]], want)
PY
	# q alone walks the candidates a bounded number per call: follow the cursor
	local s; s=$(date +%s%N)
	local cur="" pages=0 found=""
	while :; do
		api GET "/api/v1/devices?q=scale-pc-004242&limit=50${cur:+&cursor=$cur}"
		found="$found$(aa_eval '"".join(x["device_id"] for x in d["devices"])')"
		cur=$(aa_get '["next"] or ""'); pages=$((pages + 1))
		[ -n "$cur" ] && [ $pages -lt 100 ] || break
	done
	echo "    scale: q alone over 100000: $pages calls, $(( ($(date +%s%N) - s) / 1000000 )) ms in all"
	assert_eq "$found" SCALE-004242 "q found its device exactly once"
	api GET /api/v1/stats
	assert_eq "$(( $(aa_get '["devices"]["total"]') >= 100000 ))" 1 "counted"
	# remove them again: the other tests share this Redis
	local del='
local base = tonumber(ARGV[3])
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local id = string.format("SCALE-%06d", i)
  local dn = base + 100001 - i
  local k = "mdm:dev:" .. id
  local v = redis.call("HMGET", k, "state", "platform", "user", "os_version")
  for _, x in ipairs({"s:" .. v[1], "p:" .. v[2], "o:" .. v[4]}) do
    redis.call("SETBIT", "mdm:ix:" .. x, dn, 0)
  end
  redis.call("ZREM", "mdm:ix:u:" .. v[3], id)
  redis.call("HINCRBY", "mdm:st:state", v[1], -1)
  redis.call("HINCRBY", "mdm:st:platform", v[2], -1)
  redis.call("ZREM", "mdm:ix:seen", id)
  redis.call("ZREM", "mdm:devices", id)
  redis.call("DEL", k)
end
for _, x in ipairs({"s:enrolled", "s:unenrolled", "p:windows", "p:windows-8.1", "o:10.0.19045", "o:10.0.22631"}) do
  local k = "mdm:ix:" .. x
  if redis.call("TYPE", k).ok == "string" and redis.call("BITCOUNT", k) == 0 then redis.call("DEL", k) end
end
return 1'
	for i in $(seq 0 9); do
		redis EVAL "$del" 0 $((i * 10000 + 1)) $((i * 10000 + 10000)) "$base" >/dev/null || fail "cleanup $i"
	done
	assert_eq "$(redis EXISTS mdm:dev:SCALE-000001)" 0 "cleaned up"
	# and compact the append-only file, or a later Redis restart replays all of it (LOADING)
	redis BGREWRITEAOF >/dev/null
	wait_until "AOF rewritten" bash -c "redis-cli -p $REDIS_PORT INFO persistence | grep -q '^aof_rewrite_in_progress:0' &&
		redis-cli -p $REDIS_PORT INFO persistence | grep -q '^aof_rewrite_scheduled:0'" || fail "AOF rewrite"
}
