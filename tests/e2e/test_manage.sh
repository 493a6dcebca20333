# Management sessions (OMA-DM over mutual TLS) with the simulator as the device: typed
# commands end `done` with the device's status and results; refusals; large objects;
# MaxMsgSize; unenrollment from either side.

# manage_device OUTDIR EMAIL: enrolls a fresh simulated device into OUTDIR, echoes its id
manage_device() {
	create_user "$2" 'Pa55word!x' >/dev/null || return 1
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email "$2" --password 'Pa55word!x' \
		--out "$1" >"$1.log" 2>&1 || { cat "$1.log" >&2; return 1; }
	json_get '["device_id"]' <"$1/enrollment.json"
}

session() { # DIR [sim manage options...] -> exit code; output in DIR.session.log
	local dir=$1; shift
	sim manage --dir "$dir" --cacert "$CA" "$@" >>"$dir.session.log" 2>&1
}

queue() { # DEVICE JSON -> echoes the command id
	api POST "/api/v1/devices/$1/commands" "$2"
	[ "$API_STATUS" = 201 ] || { echo "queue failed: $API_STATUS $API_BODY" >&2; return 1; }
	json_get '["id"]' <<<"$API_BODY"
}

cmd_field() { # ID FIELD
	api GET "/api/v1/commands/$1"
	json_get "$2" <<<"$API_BODY"
}

received() { # DIR TARGET-SUBSTRING -> how many times the device applied it
	grep -c -- "$2" "$1/received.jsonl" 2>/dev/null || echo 0
}

t_manage_first_session_records_devinfo_and_inventory() {
	local id; id=$(manage_device "$W/dev" m1@example.com) || { fail "enroll"; return; }
	session "$W/dev"; assert_eq "$?" 0 "first session: $(tail -3 "$W/dev.session.log")"
	api GET "/api/v1/devices/$id"
	assert_eq "$(json_get '["devinfo"]["man"]' <<<"$API_BODY")" Contoso "DevInfo stored"
	assert_eq "$(json_get '["last_seen"] > 0' <<<"$API_BODY")" True "last seen (epoch seconds)"
	assert_contains "$API_BODY" '"login_status":"user"' "Alert 1224 LoginStatus"
	assert_eq "$(json_get '["inventory"]["swv"]' <<<"$API_BODY")" 10.0.22631.4460 "inventory queried at first contact"
	api GET "/api/v1/devices/$id/commands"
	assert_contains "$API_BODY" '"type":"inventory"'
	assert_contains "$API_BODY" '"state":"done"'
	# the next session has nothing to do and ends at once
	session "$W/dev"; assert_eq "$?" 0 "second session"
	assert_eq "$(received "$W/dev" DevDetail/SwV)" 1 "inventory not asked twice"
}

s_typed_commands() { # ENCODING-OPTION
	local id; id=$(manage_device "$W/dev" "typed$1@example.com") || { fail "enroll"; return; }
	session "$W/dev" $1 || fail "first session"
	local lock wipe reboot pol inv poll raw
	lock=$(queue "$id" '{"type":"lock"}')
	wipe=$(queue "$id" '{"type":"wipe","mode":"doWipeProtected"}')
	reboot=$(queue "$id" '{"type":"reboot"}')
	pol=$(queue "$id" '{"type":"policy","action":"set","settings":[{"area":"DeviceLock","name":"MinDevicePasswordLength","value":"8"},{"area":"DeviceLock","name":"DevicePasswordEnabled","value":"0"}]}')
	inv=$(queue "$id" '{"type":"inventory"}')
	poll=$(queue "$id" '{"type":"poll","interval_minutes":240}')
	raw=$(queue "$id" '{"type":"raw","verb":"Get","items":[{"target":"./Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength"}]}')
	for c in "$lock" "$wipe" "$reboot" "$pol" "$inv" "$poll" "$raw"; do
		assert_eq "$(cmd_field "$c" '["state"]')" queued "queued before the session"
	done
	session "$W/dev" $1; assert_eq "$?" 0 "session: $(tail -3 "$W/dev.session.log")"
	for c in "$lock" "$wipe" "$reboot" "$pol" "$inv" "$poll" "$raw"; do
		assert_eq "$(cmd_field "$c" '["state"]')" done "command $c done"
		assert_eq "$(cmd_field "$c" '["status"]')" 200 "device status of $c"
	done
	assert_contains "$(cmd_field "$inv" '["results"]')" "10.0.22631.4460" "inventory results"
	assert_contains "$(cmd_field "$raw" '["results"]')" "'data': '8'" "raw Get returns the policy just set"
	assert_eq "$(received "$W/dev" RemoteLock/Lock)" 1 "lock delivered once"
	assert_eq "$(received "$W/dev" RemoteWipe/doWipeProtected)" 1 "wipe delivered once"
	assert_eq "$(received "$W/dev" Reboot/RebootNow)" 1 "reboot delivered once"
	api GET "/api/v1/devices/$id/commands"
	assert_contains "$API_BODY" "\"id\":\"$lock\"" "history lists the command"
	# nothing left: the next session delivers nothing again
	session "$W/dev" $1 || fail "idle session"
	assert_eq "$(received "$W/dev" RemoteLock/Lock)" 1 "lock not delivered again"
}

t_manage_typed_commands_xml() { s_typed_commands ""; }
t_manage_typed_commands_wbxml() { s_typed_commands --wbxml; }

t_manage_failed_command_reports_device_status() {
	local id; id=$(manage_device "$W/dev" mfail@example.com) || { fail "enroll"; return; }
	session "$W/dev" || fail "first session"
	local bad; bad=$(queue "$id" '{"type":"raw","verb":"Replace","items":[{"target":"./DevInfo/Man","data":"x"}]}')
	local gone; gone=$(queue "$id" '{"type":"raw","verb":"Get","items":[{"target":"./Vendor/MSFT/Nope"}]}')
	session "$W/dev" || fail "session"
	assert_eq "$(cmd_field "$bad" '["state"]')" failed "read-only node"
	assert_eq "$(cmd_field "$bad" '["status"]')" 405
	assert_eq "$(cmd_field "$gone" '["status"]')" 404 "unknown node"
}

t_manage_small_max_msg_size_spreads_the_queue() {
	local id; id=$(manage_device "$W/dev" msmall@example.com) || { fail "enroll"; return; }
	start_service syncml2 syncml
	wait_instances syncml 2 || fail "second syncml instance"
	session "$W/dev" || fail "first session"
	local ids=()
	for i in $(seq 1 25); do
		ids+=("$(queue "$id" "{\"type\":\"policy\",\"action\":\"set\",\"settings\":[{\"area\":\"Area$i\",\"name\":\"Setting$i\",\"value\":\"$i\"}]}")")
	done
	session "$W/dev" --max-msg-size 3000; assert_eq "$?" 0 "session under MaxMsgSize 3000: $(tail -3 "$W/dev.session.log")"
	local done_n=0
	for c in "${ids[@]}"; do [ "$(cmd_field "$c" '["state"]')" = done ] && done_n=$((done_n + 1)); done
	assert_eq "$done_n" 25 "all 25 commands done"
	local msgs; msgs=$(grep -o 'session [^:]*: [0-9]* messages' "$W/dev.session.log" | tail -1 | awk '{print $3}')
	[ "${msgs:-0}" -ge 3 ] || fail "the queue needed several messages (got ${msgs:-?})"
	# two syncml instances served this multi-message session: its state lives in Redis
	stop_proc syncml2
}

t_manage_large_object_from_device() {
	local id; id=$(manage_device "$W/dev" mlarge@example.com) || { fail "enroll"; return; }
	session "$W/dev" || fail "first session"
	local big; big=$(queue "$id" '{"type":"raw","verb":"Get","items":[{"target":"./Vendor/MSFT/Sim/Big"}]}')
	session "$W/dev" --big-node-bytes 150000; assert_eq "$?" 0 "session with a 150000-byte result: $(tail -3 "$W/dev.session.log")"
	assert_eq "$(cmd_field "$big" '["state"]')" done
	assert_eq "$(cmd_field "$big" '["results"][0]["data"].__len__()')" 150000 "reassembled result"
}

t_manage_refusals() {
	local id; id=$(manage_device "$W/dev" mref@example.com) || { fail "enroll"; return; }
	session "$W/dev" || fail "first session"
	local url; url=$(json_get '["mgmt_url"]' <"$W/dev/enrollment.json")
	# a SyncHdr Source that is not the certificate's device: header refused, nothing stored
	sed -e "s#<LocURI>B5B954E81FBCB94EB79BD08BE625F4EE</LocURI>#<LocURI>SOMEONE-ELSE</LocURI>#" \
		"$VECTORS/windows/fleet_w10_08_syncml_s1m1_device_alert1201_devinfo.xml" >"$W/other.xml" 2>/dev/null
	if [ -s "$W/other.xml" ]; then
		local before; before=$(redis HGET "mdm:dev:$id" last_seen)
		local sess_before; sess_before=$(redis GET "mdm:sess:$id:live" | sha1sum)
		curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
			-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$W/other.xml" "$url" >"$W/other.out"
		assert_contains "$W/other.out" "<Data>403</Data>" "mismatched Source refused"
		assert_eq "$(redis HGET "mdm:dev:$id" last_seen)" "$before" "nothing stored"
		assert_eq "$(redis GET "mdm:sess:$id:live" | sha1sum)" "$sess_before" "session state untouched"
	fi
	# malformed XML and a wrong media type
	local code
	code=$(curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary '<SyncML><oops' "$url")
	assert_eq "$code" 400 "malformed SyncML"
	code=$(curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" -o /dev/null -w '%{http_code}' \
		-H 'Content-Type: text/plain' --data-binary 'hello' "$url")
	assert_eq "$code" 415 "wrong media type"
	# a renewed device's old certificate is refused, the new one works
	cp -r "$W/dev" "$W/old"
	sim renew --dir "$W/dev" --cacert "$CA" >"$W/renew.log" 2>&1 || fail "renew: $(cat "$W/renew.log")"
	session "$W/old"; assert_eq "$?" 2 "superseded certificate refused"
	session "$W/dev"; assert_eq "$?" 0 "renewed certificate accepted"
	# Redis down: 503, and the device's next session works
	stop_proc redis
	session "$W/dev"; assert_ne "$?" 0 "Redis down"
	assert_contains "$W/dev.session.log" "503"
	start_redis
	session "$W/dev"; assert_eq "$?" 0 "after Redis is back"
}

t_manage_unenroll_by_device() {
	local id; id=$(manage_device "$W/dev" munenroll@example.com) || { fail "enroll"; return; }
	session "$W/dev" || fail "first session"
	local pending; pending=$(queue "$id" '{"type":"lock"}')
	local thumb; thumb=$(json_get '["thumbprint"]' <"$W/dev/enrollment.json")
	session "$W/dev" --unenroll; assert_eq "$?" 0 "Alert 1226 acknowledged: $(tail -3 "$W/dev.session.log")"
	api GET "/api/v1/devices/$id"
	assert_contains "$API_BODY" '"state":"unenrolled"'
	assert_eq "$(redis HGET "mdm:cert:$thumb" state)" revoked "certificate revoked"
	assert_eq "$(cmd_field "$pending" '["state"]')" cancelled "queue cancelled"
	session "$W/dev"; assert_eq "$?" 2 "an unenrolled device can no longer connect"
	api POST "/api/v1/devices/$id/commands" '{"type":"lock"}'
	assert_eq "$API_STATUS" 409 "no commands for an unenrolled device"
}

t_manage_unenroll_by_server() {
	local id; id=$(manage_device "$W/dev" msrvunenroll@example.com) || { fail "enroll"; return; }
	session "$W/dev" || fail "first session"
	api DELETE "/api/v1/devices/$id"
	assert_eq "$API_STATUS" 202 "unenroll queued"
	session "$W/dev"; assert_eq "$?" 0 "unenroll delivered: $(tail -3 "$W/dev.session.log")"
	assert_eq "$(received "$W/dev" DMClient/Provider)" 1 "Unenroll Exec delivered"
	api GET "/api/v1/devices/$id"
	assert_contains "$API_BODY" '"state":"unenrolled"'
	session "$W/dev"; assert_eq "$?" 2 "can no longer connect"
	# force: immediate
	local id2; id2=$(manage_device "$W/dev2" mforce@example.com) || { fail "enroll"; return; }
	api DELETE "/api/v1/devices/$id2?force=1"
	assert_eq "$API_STATUS" 200 "forced unenroll"
	session "$W/dev2"; assert_eq "$?" 2 "forced: certificate refused at once"
}

t_manage_command_redelivered_after_lost_session() {
	local id; id=$(manage_device "$W/dev" mlost@example.com) || { fail "enroll"; return; }
	session "$W/dev" || fail "first session"
	local lock; lock=$(queue "$id" '{"type":"lock"}')
	# a device that receives the lock but never answers (session abandoned)
	local url; url=$(json_get '["mgmt_url"]' <"$W/dev/enrollment.json")
	cat >"$W/p1.xml" <<X
<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>7F</SessionID><MsgID>1</MsgID><Target><LocURI>$url</LocURI></Target><Source><LocURI>$id</LocURI></Source></SyncHdr><SyncBody><Alert><CmdID>2</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>
X
	curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$W/p1.xml" "$url" >"$W/p1.out"
	assert_contains "$W/p1.out" "RemoteLock/Lock" "lock sent in the abandoned session"
	assert_eq "$(cmd_field "$lock" '["state"]')" sent "sent, not done"
	# the same message again (a retry after a lost answer): the same answer, nothing new
	curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$W/p1.xml" "$url" >"$W/p1b.out"
	assert_eq "$(cmp -s "$W/p1.out" "$W/p1b.out" && echo same)" same "a retried MsgID gets the same answer"
	# an older MsgID after a newer one is a replay: refused, nothing applied
	sed 's#<MsgID>1</MsgID>#<MsgID>2</MsgID>#; s#<Alert><CmdID>2</CmdID><Data>1201</Data></Alert>##' "$W/p1.xml" >"$W/p2.xml"
	curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$W/p2.xml" "$url" >"$W/p2.out"
	curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$W/p1.xml" "$url" >"$W/p1c.out"
	assert_contains "$W/p1c.out" "<Data>400</Data>" "replayed MsgID refused"
	assert_not_contains "$W/p1c.out" "RemoteLock" "no command in a refused answer"
	# next session: delivered again, answered, done
	session "$W/dev"; assert_eq "$?" 0 "next session"
	assert_eq "$(received "$W/dev" RemoteLock/Lock)" 1 "delivered again in the next session"
	assert_eq "$(cmd_field "$lock" '["state"]')" done
}

t_manage_replay_windows10_first_message() {
	have_vectors || return 0
	local id; id=$(manage_device "$W/dev" mreplay@example.com) || { fail "enroll"; return; }
	local url; url=$(json_get '["mgmt_url"]' <"$W/dev/enrollment.json")
	sed "s#B5B954E81FBCB94EB79BD08BE625F4EE#$id#g" "$VECTORS/windows/fleet_w10_08_syncml_s1m1_device_alert1201_devinfo.xml" >"$W/m1.xml"
	curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" -D "$W/m1.head" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$W/m1.xml" "$url?mode=Maintenance&Platform=WoA" >"$W/m1.out"
	assert_contains "$W/m1.head" "application/vnd.syncml.dm+xml"
	python3 - "$W/m1.out" <<'PY' || fail "answer to the real Windows 10 message: $(cat "$W/m1.out")"
import sys, xml.etree.ElementTree as ET
ns = {'s': 'SYNCML:SYNCML1.2'}
r = ET.parse(sys.argv[1]).getroot()
hdr = r.find('s:SyncHdr', ns)
assert hdr.find('s:SessionID', ns).text == '1', 'SessionID echoed'
body = list(r.find('s:SyncBody', ns))
st = [e for e in body if e.tag.endswith('Status')]
first = st[0]
assert first.find('s:CmdRef', ns).text == '0' and first.find('s:Cmd', ns).text == 'SyncHdr'
assert [s.find('s:CmdRef', ns).text for s in st[1:]] == ['2', '3', '4'], 'statuses in order'
ids = [e.find('s:CmdID', ns).text for e in body if e.find('s:CmdID', ns) is not None]
assert len(ids) == len(set(ids)) and '0' not in ids, 'unique CmdIDs'
assert any(e.tag.endswith('Get') for e in body), 'DevDetail asked at first contact'
assert body[-1].tag.endswith('Final')
PY
	api GET "/api/v1/devices/$id"
	assert_eq "$(json_get '["devinfo"]["mod"]' <<<"$API_BODY")" "VMware7,1" "DevInfo from the real message"
}

t_manage_replay_windows10_unenroll_alert() {
	have_vectors || return 0
	local id; id=$(manage_device "$W/dev" mreplay1226@example.com) || { fail "enroll"; return; }
	local url; url=$(json_get '["mgmt_url"]' <"$W/dev/enrollment.json")
	local thumb; thumb=$(json_get '["thumbprint"]' <"$W/dev/enrollment.json")
	sed "s#B5B954E81FBCB94EB79BD08BE625F4EE#$id#g" "$VECTORS/windows/fleet_w10_10_syncml_s2m1_device_unenroll_alert1226.xml" >"$W/u.xml"
	curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$W/u.xml" "$url" >"$W/u.out"
	assert_contains "$W/u.out" "<Cmd>SyncHdr</Cmd>"
	assert_not_contains "$W/u.out" "<Get>" "no commands for a device that leaves"
	api GET "/api/v1/devices/$id"
	assert_contains "$API_BODY" '"state":"unenrolled"' "real Alert 1226 unenrolls"
	assert_eq "$(redis HGET "mdm:cert:$thumb" state)" revoked
}

# Windows Phone 8.1 (Lumia 630): UTF-16BE with BOM, SyncHdr Cred (answered 212)
t_manage_replay_windows_phone81_utf16() {
	have_vectors || return 0
	create_user mwp81@example.com 'Pa55word!x' || fail "create user"
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email mwp81@example.com --password 'Pa55word!x' \
		--win81 --device-id "urn:uuid:FAEFB2D5-1771-5446-A635-797AFC474895" --out "$W/dev" >"$W/enroll.log" 2>&1 ||
		{ fail "enroll: $(cat "$W/enroll.log")"; return; }
	local url; url=$(json_get '["mgmt_url"]' <"$W/dev/enrollment.json")
	curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' \
		--data-binary @"$VECTORS/windows/wso2_wp81_05_syncml_s1m1_device_utf16.xml" "$url" >"$W/m.out"
	assert_contains "$W/m.out" "<SessionID>1</SessionID>"
	assert_contains "$W/m.out" "<Data>212</Data>" "credentials acknowledged"
	api GET "/api/v1/devices/urn:uuid:FAEFB2D5-1771-5446-A635-797AFC474895"
	assert_eq "$(json_get '["devinfo"]["mod"]' <<<"$API_BODY")" "Lumia 630" "DevInfo from the UTF-16 message"
}

t_manage_protocol_errors_change_nothing() {
	local id; id=$(manage_device "$W/dev" mproto@example.com) || { fail "enroll"; return; }
	session "$W/dev" || fail "first session"
	local url; url=$(json_get '["mgmt_url"]' <"$W/dev/enrollment.json")
	local lock; lock=$(queue "$id" '{"type":"lock"}')
	post() { curl -s --cacert "$CA" --cert "$W/dev/device.pem" --key "$W/dev/device.key" \
		-H 'Content-Type: application/vnd.syncml.dm+xml' --data-binary @"$1" "$url"; }
	hdr() { printf '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>%s</SessionID><MsgID>%s</MsgID><Target><LocURI>%s</LocURI></Target><Source><LocURI>%s</LocURI></Source></SyncHdr><SyncBody>' "$1" "$2" "$url" "$id"; }
	# a Status for a command never sent, and an unknown command: answered, nothing changes
	{ hdr A1 1; printf '<Status><CmdID>2</CmdID><MsgRef>9</MsgRef><CmdRef>77</CmdRef><Cmd>Exec</Cmd><Data>200</Data></Status><Frobnicate><CmdID>3</CmdID></Frobnicate><Alert><CmdID>4</CmdID><Data>1223</Data></Alert><Final/></SyncBody></SyncML>'; } >"$W/s.xml"
	post "$W/s.xml" >"$W/s.out"
	assert_contains "$W/s.out" "<CmdRef>3</CmdRef><Cmd>Frobnicate</Cmd><Data>406</Data>" "unknown command: 406"
	assert_not_contains "$W/s.out" "<CmdRef>2</CmdRef>" "device Statuses are not answered"
	assert_not_contains "$W/s.out" "RemoteLock" "aborted session (1223) sends no commands"
	assert_eq "$(cmd_field "$lock" '["state"]')" queued "unknown Status changed nothing"
	# a chunked result whose size does not match what was announced: 424
	{ hdr B2 1; printf '<Alert><CmdID>2</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>'; } >"$W/b1.xml"
	local get; get=$(queue "$id" '{"type":"raw","verb":"Get","items":[{"target":"./Vendor/MSFT/Sim/Big"}]}')
	post "$W/b1.xml" >"$W/b1.out"
	local getid; getid=$(python3 -c "
import re,sys; s=open('$W/b1.out').read()
m=[g for g in re.findall(r'<Get><CmdID>(\d+)</CmdID>.*?</Get>', s) ]
print(m[0] if m else '')")
	[ -n "$getid" ] || { fail "Get not sent: $(cat "$W/b1.out")"; return; }
	{ hdr B2 2; printf '<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>%s</CmdRef><Item><Source><LocURI>./Vendor/MSFT/Sim/Big</LocURI></Source><Meta><Size xmlns="syncml:metinf">100</Size></Meta><Data>abc</Data><MoreData/></Item></Results></SyncBody></SyncML>' "$getid"; } >"$W/b2.xml"
	post "$W/b2.xml" >"$W/b2.out"
	assert_contains "$W/b2.out" "<Data>213</Data>" "chunk accepted"
	assert_contains "$W/b2.out" "<Data>1222</Data>" "asks for the next message"
	assert_not_contains "$W/b2.out" "<Final" "package continues"
	{ hdr B2 3; printf '<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>%s</CmdRef><Item><Source><LocURI>./Vendor/MSFT/Sim/Big</LocURI></Source><Data>def</Data></Item></Results><Final/></SyncBody></SyncML>' "$getid"; } >"$W/b3.xml"
	post "$W/b3.xml" >"$W/b3.out"
	assert_contains "$W/b3.out" "<Cmd>Results</Cmd><SourceRef>./Vendor/MSFT/Sim/Big</SourceRef><Data>424</Data>" "size mismatch: 424"
	assert_eq "$(cmd_field "$get" '["results"]')" "[]" "no truncated result stored"
}
