# Admin API for device management: typed commands for one device, for many by id or by
# group, history, refusals that queue nothing, and server-initiated unenrollment.
# Devices are enrolled by the simulator; queues are checked in Redis directly.

# ac_enroll DIR EMAIL: enrolls a simulated device; sets AC_ID and AC_THUMB.
ac_enroll() {
	AC_ID="" AC_THUMB=""
	create_user "$2" 'Pa55word!x' || { fail "create user $2"; return 1; }
	if ! sim enroll --url "$BASE" --cacert "$CA" --out "$1" --auth onprem --email "$2" \
		--password 'Pa55word!x' >"$1.log" 2>&1; then
		fail "enrollment: $(cat "$1.log")"
		return 1
	fi
	AC_ID=$(json_get '["device_id"]' <"$1/enrollment.json")
	AC_THUMB=$(json_get '["thumbprint"]' <"$1/enrollment.json")
}

ac_qlen() { redis LLEN "mdm:q:$1"; }
ac_cmd_count() { redis EVAL "return #redis.call('KEYS', 'mdm:cmd:*')" 0; }
ac_get() { json_get "$1" <<<"$API_BODY"; }

# ac_post_cmd DEVICE JSON TYPE: queues one command, expects 201 and a queued TYPE; sets CMD_ID
ac_post_cmd() {
	api POST "/api/v1/devices/$1/commands" "$2"
	assert_eq "$API_STATUS" 201 "queue $3: $API_BODY"
	assert_eq "$(ac_get '["type"]')" "$3" "type of $3"
	assert_eq "$(ac_get '["state"]')" queued "state of $3"
	assert_eq "$(ac_get '["device_id"]')" "$1" "device of $3"
	CMD_ID=$(ac_get '["id"]')
}

t_api_commands_every_type_for_one_device() {
	ac_enroll "$W/dev" cmd-one@example.com || return
	local id=$AC_ID ids=()
	assert_eq "$(ac_qlen "$id")" 0 "empty queue after enrollment"
	ac_post_cmd "$id" '{"type":"lock"}' lock; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"target":"./Device/Vendor/MSFT/RemoteLock/Lock"'
	assert_contains "$API_BODY" '"request":{"type":"lock"}'
	assert_contains "$API_BODY" '"status":null'
	assert_contains "$API_BODY" '"results":[]'
	ac_post_cmd "$id" '{"type":"wipe","mode":"doWipeProtected"}' wipe; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"target":"./Device/Vendor/MSFT/RemoteWipe/doWipeProtected","format":"chr"'
	ac_post_cmd "$id" '{"type":"reboot"}' reboot; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"target":"./Device/Vendor/MSFT/Reboot/RebootNow","format":"null"'
	ac_post_cmd "$id" '{"type":"inventory"}' inventory; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"target":"./DevDetail/Ext/Microsoft/SMBIOSSerialNumber"'
	ac_post_cmd "$id" '{"type":"policy","action":"set","settings":[{"area":"Camera","name":"AllowCamera","value":0},{"area":"Browser","name":"HomePages","value":"<https://x.example/>","format":"chr"}]}' policy; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"syncml":[{"verb":"Atomic","cmds":[{"verb":"Replace"'
	assert_contains "$API_BODY" '"target":"./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera","format":"int","data":"0"'
	ac_post_cmd "$id" '{"type":"policy","action":"remove","scope":"user","settings":[{"area":"Camera","name":"AllowCamera"}]}' policy; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"syncml":[{"verb":"Delete","items":[{"target":"./User/Vendor/MSFT/Policy/Config/Camera/AllowCamera"}]}]'
	ac_post_cmd "$id" '{"type":"poll","interval_minutes":15}' poll; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"target":"./Vendor/MSFT/DMClient/Provider/OpenMDM/Poll/IntervalForRemainingScheduledRetries","format":"int","data":"15"'
	assert_contains "$API_BODY" '/Poll/NumberOfRemainingScheduledRetries","format":"int","data":"0"'
	ac_post_cmd "$id" '{"type":"raw","verb":"Sequence","cmds":[{"verb":"Get","items":[{"target":"./DevInfo/Man"}]},{"verb":"Replace","items":[{"target":"./Vendor/MSFT/X","format":"int","data":"1"}]}]}' raw; ids+=("$CMD_ID")
	assert_contains "$API_BODY" '"syncml":[{"verb":"Sequence","cmds":[{"verb":"Get","items":[{"target":"./DevInfo/Man"}]}'

	# the queue holds them in order; each record is readable by id
	assert_eq "$(ac_qlen "$id")" "${#ids[@]}" "all queued"
	assert_eq "$(redis LRANGE "mdm:q:$id" 0 -1 | tr '\n' ' ')" "${ids[*]} " "queue order"
	api GET "/api/v1/commands/${ids[0]}"
	assert_eq "$API_STATUS" 200 "GET command"
	assert_eq "$(ac_get '["id"]')" "${ids[0]}"
	assert_eq "$(ac_get '["state"]')" queued
	assert_eq "$(ac_get '["expires_at"] - d["created_at"]')" 2592000 "default TTL 30 days"
	assert_eq "$(redis HGET "mdm:cmd:${ids[0]}" device_id)" "$id" "record in Redis"

	# history: newest first, pages with a cursor
	api GET "/api/v1/devices/$id/commands"
	assert_eq "$API_STATUS" 200 "history"
	assert_eq "$(ac_get '["commands"][0]["id"]')" "${ids[7]}" "newest first"
	assert_eq "$(ac_get '["commands"][7]["id"]')" "${ids[0]}" "oldest last"
	assert_eq "$(ac_get '["next"]')" None "one page"
	api GET "/api/v1/devices/$id/commands?limit=3&cursor=3"
	assert_eq "$(ac_get '["commands"][0]["id"]')" "${ids[4]}" "second page"
	assert_eq "$(ac_get '["next"]')" 6 "next cursor"
	api GET "/api/v1/devices/$id/commands?limit=0"
	assert_eq "$API_STATUS" 400 "limit 0"
}

t_api_commands_bad_bodies_queue_nothing() {
	ac_enroll "$W/dev" cmd-bad@example.com || return
	local id=$AC_ID before; before=$(ac_cmd_count)
	# ac_expect_400 JSON NEEDLE: refused with a message naming the problem, nothing stored
	ac_expect_400() {
		api POST "/api/v1/devices/$id/commands" "$1"
		assert_eq "$API_STATUS" 400 "refused: $1"
		assert_contains "$API_BODY" '"code":"bad_request"'
		assert_contains "$API_BODY" "$2" "message for $1"
	}
	ac_expect_400 '' 'body must be a JSON object: empty body'
	ac_expect_400 '{"type":"lock"' 'body must be a JSON object'
	ac_expect_400 '["lock"]' 'body must be a JSON object'
	ac_expect_400 '{"type":"lock","type":"wipe"}' 'duplicate'
	ac_expect_400 '{}' '\"type\" is required'
	ac_expect_400 '{"type":"selfdestruct"}' 'unknown command type \"selfdestruct\"'
	ac_expect_400 '{"type":"unenroll"}' 'unknown command type \"unenroll\"'
	ac_expect_400 '{"type":"lock","pin":"1234"}' 'unknown field \"pin\" in a command of type \"lock\"'
	ac_expect_400 '{"type":"wipe","mode":"everything"}' '\"mode\" must be one of doWipe, doWipeProtected, doWipePersistUserData'
	ac_expect_400 '{"type":"policy","action":"set","settings":[{"area":"Camera","name":"AllowCamera"}]}' 'settings[0].value is required to set a policy'
	ac_expect_400 '{"type":"policy","action":"remove","settings":[{"area":"Camera","name":"AllowCamera","value":1}]}' 'settings[0].value is not allowed when removing'
	ac_expect_400 '{"type":"policy","action":"set","settings":[{"area":"../..","name":"X","value":1}]}' 'settings[0].area is required: 1 to 128 of A-Z a-z 0-9 _ . -'
	ac_expect_400 '{"type":"poll","interval_minutes":0}' '\"interval_minutes\" is required: an integer from 1 to 1440'
	ac_expect_400 '{"type":"raw","verb":"Atomic","cmds":[{"verb":"Get","items":[{"target":"./DevInfo/Man"}]}]}' 'cmds[0]: Get is not allowed inside Atomic'
	ac_expect_400 '{"type":"raw","verb":"Atomic","cmds":[{"verb":"Atomic","cmds":[{"verb":"Exec","items":[{"target":"./X"}]}]}]}' 'cmds[0]: Atomic cannot be nested inside Atomic'
	ac_expect_400 '{"type":"raw","verb":"Get","items":[{"target":"DevInfo/Man"}]}' 'items[0].target must start with \"./\"'
	ac_expect_400 '{"type":"raw","verb":"Get","items":[{"target":"./My Node"}]}' 'items[0].target contains a space'
	ac_expect_400 '{"type":"raw","verb":"Exec"}' 'items must be a non-empty array for Exec'
	assert_eq "$(ac_qlen "$id")" 0 "nothing queued"
	assert_eq "$(redis EXISTS "mdm:dcmd:$id")" 0 "no history"
	assert_eq "$(ac_cmd_count)" "$before" "no command record"
}

t_api_commands_unknown_things_are_404() {
	local before; before=$(ac_cmd_count)
	api POST /api/v1/devices/NoSuchDevice/commands '{"type":"lock"}'
	assert_eq "$API_STATUS" 404 "command for an unknown device"
	assert_contains "$API_BODY" '"message":"no such device"'
	assert_eq "$(ac_qlen NoSuchDevice)" 0
	api GET /api/v1/devices/NoSuchDevice/commands
	assert_eq "$API_STATUS" 404 "history of an unknown device"
	api GET /api/v1/commands/0190a3c4-0000-7000-8000-000000000000
	assert_eq "$API_STATUS" 404 "unknown command"
	assert_contains "$API_BODY" '"message":"no such command"'
	api DELETE /api/v1/devices/NoSuchDevice
	assert_eq "$API_STATUS" 404 "unenroll an unknown device"
	api DELETE "/api/v1/devices/NoSuchDevice?force=1"
	assert_eq "$API_STATUS" 404 "force-unenroll an unknown device"
	api GET /api/v1/devices/NoSuchDevice/commands/extra
	assert_eq "$API_STATUS" 404 "deeper path"
	api PUT /api/v1/commands/abc '{}'
	assert_eq "$API_STATUS" 405 "method on a known path"
	api GET /api/v1/groups/nogroup/devices
	assert_eq "$API_STATUS" 200 "an unknown group is empty"
	assert_contains "$API_BODY" '"devices":[]'
	assert_eq "$(redis EXISTS mdm:dev:NoSuchDevice)" 0 "no record created"
	assert_eq "$(ac_cmd_count)" "$before" "no command record"
}

t_api_commands_bulk_by_ids_and_by_group() {
	ac_enroll "$W/a" cmd-bulk-a@example.com || return
	local a=$AC_ID
	ac_enroll "$W/b" cmd-bulk-b@example.com || return
	local b=$AC_ID before
	api POST /api/v1/commands "{\"devices\":[\"$a\",\"$b\",\"NoSuchDevice\"],\"command\":{\"type\":\"reboot\"}}"
	assert_eq "$API_STATUS" 201 "bulk by ids: $API_BODY"
	assert_eq "$(ac_get '["commands"].__len__()')" 2 "two queued"
	assert_eq "$(ac_get '["commands"][0]["device_id"]')" "$a"
	assert_eq "$(ac_get '["commands"][1]["device_id"]')" "$b"
	assert_eq "$(ac_get '["errors"]')" "[{'device_id': 'NoSuchDevice', 'code': 'not_found', 'error': 'no such device'}]"
	assert_eq "$(ac_qlen "$a")" 1; assert_eq "$(ac_qlen "$b")" 1
	# a bad command, or a bad device list, queues nothing for anyone
	before=$(ac_cmd_count)
	api POST /api/v1/commands "{\"devices\":[\"$a\",\"$b\"],\"command\":{\"type\":\"reboot\",\"delay\":5}}"
	assert_eq "$API_STATUS" 400 "bad command"
	assert_contains "$API_BODY" 'command: unknown field \"delay\" in a command of type \"reboot\"'
	api POST /api/v1/commands "{\"devices\":[\"$a\"],\"group\":\"lobby\",\"command\":{\"type\":\"lock\"}}"
	assert_eq "$API_STATUS" 400 "both devices and group"
	api POST /api/v1/commands '{"command":{"type":"lock"}}'
	assert_eq "$API_STATUS" 400 "neither devices nor group"
	api POST /api/v1/commands "{\"devices\":[\"$a\"]}"
	assert_eq "$API_STATUS" 400 "no command"
	api POST /api/v1/commands '{"devices":[],"command":{"type":"lock"}}'
	assert_eq "$API_STATUS" 400 "empty device list"
	api POST /api/v1/commands "{\"devices\":[\"$a\",\"$a\"],\"command\":{\"type\":\"lock\"}}"
	assert_eq "$API_STATUS" 400 "repeated device"
	assert_contains "$API_BODY" "devices[1] repeats $a"
	api POST /api/v1/commands "{\"devices\":[\"$a\"],\"command\":{\"type\":\"lock\"},\"when\":\"now\"}"
	assert_eq "$API_STATUS" 400 "unknown field"
	assert_contains "$API_BODY" 'when'
	assert_eq "$(ac_cmd_count)" "$before" "nothing stored by refusals"
	assert_eq "$(ac_qlen "$a")" 1; assert_eq "$(ac_qlen "$b")" 1

	# groups: add members, list them, queue for the group
	api POST /api/v1/groups/lobby/devices "{\"devices\":[\"$b\",\"$a\",\"NoSuchDevice\"]}"
	assert_eq "$API_STATUS" 200 "add to group: $API_BODY"
	assert_eq "$(ac_get '["added"]')" "['$b', '$a']"
	assert_eq "$(ac_get '["errors"][0]["device_id"]')" NoSuchDevice
	api POST /api/v1/groups/lobby/devices '{"devices":["x"],"extra":1}'
	assert_eq "$API_STATUS" 400 "strict group body"
	api GET /api/v1/groups/lobby/devices
	assert_eq "$(ac_get '["devices"]')" "$(python3 -c "print(sorted(['$a', '$b']))")" "members"
	api POST /api/v1/commands '{"group":"lobby","command":{"type":"lock"}}'
	assert_eq "$API_STATUS" 201 "bulk by group: $API_BODY"
	assert_eq "$(ac_get '["commands"].__len__()')" 2
	assert_eq "$(ac_qlen "$a")" 2; assert_eq "$(ac_qlen "$b")" 2
	api POST /api/v1/commands '{"group":"nobody-here","command":{"type":"lock"}}'
	assert_eq "$API_STATUS" 404 "unknown group"
	# an unenrolled member is reported, the others still get the command
	api DELETE "/api/v1/devices/$b?force=1"
	assert_eq "$API_STATUS" 200 "force unenroll"
	api POST /api/v1/commands '{"group":"lobby","command":{"type":"inventory"}}'
	assert_eq "$API_STATUS" 201
	assert_eq "$(ac_get '["commands"].__len__()')" 1 "only the enrolled member"
	assert_eq "$(ac_get '["errors"][0]["device_id"]')" "$b"
	assert_eq "$(ac_get '["errors"][0]["code"]')" conflict
	assert_eq "$(ac_qlen "$a")" 3; assert_eq "$(ac_qlen "$b")" 0
}

t_api_commands_unenroll_queues_then_force() {
	ac_enroll "$W/dev" cmd-unenroll@example.com || return
	local id=$AC_ID thumb=$AC_THUMB lock unenroll
	ac_post_cmd "$id" '{"type":"lock"}' lock; lock=$CMD_ID
	api DELETE "/api/v1/devices/$id"
	assert_eq "$API_STATUS" 202 "unenroll queued: $API_BODY"
	assert_eq "$(ac_get '["command"]["type"]')" unenroll
	assert_contains "$API_BODY" '"target":"./Vendor/MSFT/DMClient/Provider/OpenMDM/Unenroll","format":"chr","type":"text/plain","data":"OpenMDM"'
	unenroll=$(ac_get '["command"]["id"]')
	assert_eq "$(redis HGET "mdm:dev:$id" state)" enrolled "still enrolled until delivered"
	assert_eq "$(redis HGET "mdm:cert:$thumb" state)" active "certificate still active"
	assert_eq "$(ac_qlen "$id")" 2
	# asking again returns the pending command, no second one
	api DELETE "/api/v1/devices/$id/"
	assert_eq "$API_STATUS" 202
	assert_eq "$(ac_get '["command"]["id"]')" "$unenroll" "same pending command"
	assert_eq "$(ac_qlen "$id")" 2
	api DELETE "/api/v1/devices/$id?force=maybe"
	assert_eq "$API_STATUS" 400 "bad force value"
	# force: unenrolled now, certificate revoked, queue cancelled
	api DELETE "/api/v1/devices/$id?force=1"
	assert_eq "$API_STATUS" 200 "forced"
	assert_eq "$API_BODY" "{\"device_id\":\"$id\",\"state\":\"unenrolled\"}"
	assert_eq "$(redis HGET "mdm:dev:$id" state)" unenrolled
	assert_eq "$(redis HGET "mdm:dev:$id" unenroll_reason)" admin
	assert_eq "$(redis HGET "mdm:cert:$thumb" state)" revoked "certificate revoked"
	assert_eq "$(redis EXISTS "mdm:q:$id")" 0 "queue deleted"
	api GET "/api/v1/commands/$lock"
	assert_eq "$(ac_get '["state"]')" cancelled
	api GET "/api/v1/commands/$unenroll"
	assert_eq "$(ac_get '["state"]')" cancelled
	api GET "/api/v1/devices/$id"
	assert_contains "$API_BODY" '"state":"unenrolled"' "device view"
	# an unenrolled device takes no commands; unenrolling again is harmless
	api POST "/api/v1/devices/$id/commands" '{"type":"lock"}'
	assert_eq "$API_STATUS" 409 "command for an unenrolled device"
	assert_contains "$API_BODY" 'device is not enrolled'
	assert_eq "$(ac_qlen "$id")" 0
	api DELETE "/api/v1/devices/$id"
	assert_eq "$API_STATUS" 409 "queue unenroll for an unenrolled device"
	api DELETE "/api/v1/devices/$id?force=1"
	assert_eq "$API_STATUS" 200 "force again"
	# the revoked certificate can no longer renew
	sim renew --dir "$W/dev" --cacert "$CA" >"$W/renew.log" 2>&1
	assert_eq "$?" 2 "renewal after unenrollment: $(cat "$W/renew.log")"
	# history still shows everything
	api GET "/api/v1/devices/$id/commands"
	assert_eq "$(ac_get '["commands"].__len__()')" 2 "history kept"
}
