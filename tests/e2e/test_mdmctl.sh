# mdmctl (build/bin/mdm-ctl), the admin API client, against the running stack: help and
# usage errors, one exit code per class, flag > environment > config file, tables and
# --json, pre-enrollment to a simulated device, commands delivered in real sessions and
# waited for, groups and bulk commands, unenrollment, and the routes of the console work
# (admins, login, tokens, audit, stats, ...), which skip while the server lacks them.

# mc [VAR=value...] ARGS...: runs mdmctl aimed at the stack (MDM_URL, MDM_TOKEN, MDM_CA_FILE;
# a VAR=value before the arguments overrides or, empty, unsets one), with no config file
# unless the test writes one under $W/xdg. stdout in $W/out, stderr in $W/err, exit code in
# MC_RC. stderr is appended to $E2E_OUT/mdmctl.log, where run.sh finds sanitizer reports.
mc() {
	local envs=()
	while [ $# -gt 0 ] && [[ "$1" =~ ^[A-Z_]+= ]]; do envs+=("$1"); shift; done
	env -u MDM_URL -u MDM_TOKEN -u MDM_CA_FILE -u MDM_INSECURE -u MDMCTL_CONFIG \
		XDG_CONFIG_HOME="$W/xdg" HOME="$W/home" \
		MDM_URL="$BASE" MDM_TOKEN="$ADMIN_TOKEN" MDM_CA_FILE="$CA" "${envs[@]}" \
		"$BIN/mdm-ctl" "$@" >"$W/out" 2>"$W/err"
	MC_RC=$?
	{ echo "\$ mdmctl ${*//$ADMIN_TOKEN/<admin token>} -> $MC_RC"; cat "$W/err"; } >>"$E2E_OUT/mdmctl.log"
	return 0
}
mc_out() { cat "$W/out"; }
# mc_expect CODE MSG: the last mc exited with CODE
mc_expect() { assert_eq "$MC_RC" "$1" "$2 (exit code; stderr: $(head -c 400 "$W/err"))"; }
mc_json() { json_get "$1" <"$W/out"; }
# mc_field LABEL [FILE]: the value on a "label   value" line of a key/value view
mc_field() { sed -n "s/^$1 \{1,\}//p" "${2:-$W/out}" | head -1; }

# mc_enroll DIR EMAIL [sim options...]: enrolls a simulated device, echoes its id
mc_enroll() {
	local dir=$1 email=$2; shift 2
	create_user "$email" 'Pa55word!x' || return 1
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email "$email" --password 'Pa55word!x' \
		--out "$dir" "$@" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; return 1; }
	json_get '["device_id"]' <"$dir/enrollment.json"
}

mc_session() { # DIR: one OMA-DM session of the simulated device
	sim manage --dir "$1" --cacert "$CA" >>"$1.session.log" 2>&1
}

# mc_backend_missing METHOD PATH [BODY]: true, and the test is marked skipped, while the
# server has no such route: 405 (known path, other method), or 404 with the very body the
# server gives for a path that cannot exist (not a 404 of the route itself, like "no such
# group"). Once the backend lands the test runs.
mc_backend_missing() {
	mc_route_exists "$@" && return 1
	echo "    skipped: the server has no $1 $2 yet ($API_STATUS)"
	T_SKIP=1
	return 0
}
mc_route_exists() { # METHOD PATH [BODY]
	api GET /api/v1/mdmctl-probe/no/such/route
	local nothing=$API_BODY
	api "$1" "$2" "${3:-}"
	! { [ "$API_STATUS" = 405 ] || { [ "$API_STATUS" = 404 ] && [ "$API_BODY" = "$nothing" ]; }; }
}

# Each command's words, from the command list of `mdmctl help`.
mc_commands() {
	"$BIN/mdm-ctl" help | awk '/^commands:/{on=1; next} on && /^$/{exit}
		on && /^  [a-z]/{w=""; for (i = 1; i <= NF; i++) { if ($i !~ /^[a-z-]+$/) break; w = w (w ? " " : "") $i }
		if (w != "help") print w}'
}

t_mdmctl_help_texts() {
	mc help; mc_expect 0 "mdmctl help"
	local help; help=$(mc_out)
	mc --help; mc_expect 0 "mdmctl --help"
	assert_eq "$(mc_out)" "$help" "--help is help"
	for code in "0  ok" "1  the API refused" "2  usage error" "3  authentication" "4  not found" \
		"5  server unavailable" "6  a waited-for command" "7  --wait ran out"; do
		assert_contains "$help" "$code" "exit code documented"
	done
	for s in MDM_URL MDM_TOKEN MDM_CA_FILE MDM_INSECURE MDMCTL_CONFIG XDG_CONFIG_HOME \
		.config/mdmctl/config --password-stdin; do
		assert_contains "$help" "$s" "configuration documented"
	done
	local n=0 words
	while read -r words; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		mc $words --help; mc_expect 0 "$words --help"
		assert_contains "$(mc_out)" "usage: mdmctl $words" "$words --help"
		mc help $words; mc_expect 0 "help $words"
		assert_contains "$(mc_out)" "usage: mdmctl $words"
	done < <(mc_commands)
	[ "$n" -ge 35 ] || fail "only $n commands in mdmctl help"
	# a family word lists its subcommands
	mc group --help; mc_expect 0 "group --help"
	assert_contains "$(mc_out)" "mdmctl group rename NAME NEWNAME"
	mc devices; mc_expect 2 "devices without a subcommand"
	assert_contains "$W/err" "mdmctl devices list"
	# singular and plural both work
	mc help device list; mc_expect 0 "device list"
	mc help groups show; mc_expect 0 "groups show"
	mc help --help; mc_expect 0 "help --help"
	assert_eq "$(mc_out)" "$help"
}

t_mdmctl_usage_errors_exit_2() {
	# mc_usage MSG ARGS...: exit 2, "usage:" on stderr, nothing on stdout, nothing sent
	mc_usage() {
		local msg=$1; shift
		mc "$@"; mc_expect 2 "$msg"
		assert_eq "$(mc_out)" "" "$msg: stdout"
		assert_contains "$W/err" "mdmctl: " "$msg: says why"
	}
	local before; before=$(redis EVAL "return #redis.call('KEYS', 'mdm:cmd:*')" 0)
	mc_usage "no command"
	mc_usage "unknown command" frobnicate
	mc_usage "unknown subcommand" group frobnicate
	mc_usage "unknown option" devices list --colour
	mc_usage "flag with a value" devices list --all=yes
	mc_usage "option without its value" devices list --limit
	mc_usage "bad limit" devices list --limit 0
	mc_usage "bad limit" devices list --limit ten
	mc_usage "cursor and all" devices list --cursor 5 --all
	mc_usage "bad time" devices list --last-seen-after yesterday
	mc_usage "missing id" device show
	mc_usage "extra argument" device show A B
	mc_usage "empty id" device show ""
	mc_usage "no target" lock
	mc_usage "two targets" lock DEV --group lobby
	mc_usage "empty device in a list" lock --devices a,,b
	mc_usage "wait in bulk" lock --group lobby --wait 5
	mc_usage "bad wait" command show X --wait soon
	mc_usage "wipe without --yes" wipe DEV
	mc_usage "bad wipe mode" wipe DEV --mode everything --yes
	mc_usage "unenroll without --yes" unenroll DEV --force
	mc_usage "policy without name" policy set DEV --area Camera --value 0
	mc_usage "policy set without value" policy set DEV --area Camera --name AllowCamera
	mc_usage "bad policy format" policy set DEV --area A --name N --value 1 --format float
	mc_usage "bad policy scope" policy remove DEV --area A --name N --scope machine
	mc_usage "bad role" admins add a@example.com --role root --password-stdin
	mc_usage "tokens role" tokens create ci --role superuser
	mc_usage "password on the command line" users add a@example.com --password secret
	mc_usage "bad ttl" pre-enroll a@example.com --ttl -5
	mc_usage "bad timeout" devices list --timeout 0
	assert_contains "$W/err" "usage: mdmctl devices list" "usage line of the command"
	assert_eq "$(redis EVAL "return #redis.call('KEYS', 'mdm:cmd:*')" 0)" "$before" "nothing queued"
	# no password source: no terminal and no --password-stdin
	MC_RC=0
	setsid -w env MDM_URL="$BASE" MDM_TOKEN="$ADMIN_TOKEN" MDM_CA_FILE="$CA" \
		"$BIN/mdm-ctl" users add nopw@example.com </dev/null >"$W/out" 2>"$W/err" || MC_RC=$?
	mc_expect 2 "no terminal for the password"
	assert_contains "$W/err" "use --password-stdin"
	# --password-stdin with nothing on stdin
	mc users add nopw@example.com --password-stdin </dev/null; mc_expect 2 "empty stdin"
	# no server URL
	mc MDM_URL= devices list; mc_expect 2 "no URL"
	assert_contains "$W/err" "no server URL"
	mc MDM_URL=ftp://localhost devices list; mc_expect 2 "not an http(s) URL"
}

t_mdmctl_exit_codes_per_class() {
	local id; id=$(mc_enroll "$W/dev" mc-codes@example.com) || { fail "enroll"; return; }
	mc devices list; mc_expect 0 "ok"
	# 3: wrong token (401), no token at all
	mc --token not-the-token devices list; mc_expect 3 "bad token"
	assert_contains "$W/err" "401"
	assert_contains "$W/err" "the token came from --token"
	assert_not_contains "$W/err" "not-the-token" "the token is never printed"
	mc MDM_TOKEN=bad-token-4711 device show "$id"; mc_expect 3 "bad token from the environment"
	assert_not_contains "$W/err" "bad-token-4711" "the token is never printed"
	mc MDM_TOKEN= devices list; mc_expect 3 "no token"
	assert_contains "$W/err" "no token"
	# 4: unknown device, unknown command, unknown group for a bulk command
	mc device show NoSuchDevice; mc_expect 4 "unknown device"
	assert_contains "$W/err" "no such device"
	mc lock NoSuchDevice; mc_expect 4 "lock an unknown device"
	mc commands list NoSuchDevice; mc_expect 4 "history of an unknown device"
	mc command show 0190a3c4-0000-7000-8000-000000000000; mc_expect 4 "unknown command"
	mc unenroll NoSuchDevice --yes; mc_expect 4 "unenroll an unknown device"
	mc reboot --group mc-nobody-here; mc_expect 4 "unknown group"
	# 1: the API refuses (400 / 409)
	mc policy set "$id" --area Camera --name AllowCamera --value yes; mc_expect 1 "int policy with text"
	assert_contains "$W/err" "400 bad_request: "
	assert_contains "$W/err" "must be an integer"
	mc pre-enroll not-an-email; mc_expect 1 "bad email"
	mc users add mc-short@example.com --password-stdin <<<"short"; mc_expect 1 "short password"
	assert_contains "$W/err" "400"
	mc users add mc-codes@example.com --password-stdin <<<"Pa55word!x"; mc_expect 1 "existing user: 409"
	assert_contains "$W/err" "409"
	# 5: nothing listening, the mutual-TLS port without a client certificate, a CA we do
	# not trust, a timeout, a 503 from the gateway
	mc --url "https://localhost:$((PORT_BASE + 9))" devices list; mc_expect 5 "wrong port"
	assert_contains "$W/err" "cannot reach"
	mc --url "$MGMT" devices list; mc_expect 5 "management port (mutual TLS)"
	mc MDM_CA_FILE= devices list; mc_expect 5 "untrusted CA"
	assert_contains "$W/err" "--ca-file"
	mc --url "http://localhost:$MDM_HTTPS_PORT" devices list; mc_expect 5 "plain HTTP to the TLS port"
	stop_proc registry
	mc --timeout 20 devices list; mc_expect 5 "no registry: 503"
	assert_contains "$W/err" "503"
	start_service registry
	wait_instances registry 1 || fail "registry back"
	mc devices list; mc_expect 0 "registry back"
	# the admin token appears nowhere
	assert_not_contains "$E2E_OUT/mdmctl.log" "$ADMIN_TOKEN" "admin token in stderr"
}

t_mdmctl_exit_5_when_the_gateway_stops() {
	# a gateway that does not answer (stopped): the request times out
	stop_proc gateway STOP
	mc --timeout 2 devices list; mc_expect 5 "gateway not answering"
	assert_contains "$W/err" "cannot reach"
	kill -CONT "${PIDS[gateway]}"
	mc devices list; mc_expect 0 "gateway answering again"
	# a gateway that is gone: connection refused
	stop_proc gateway
	mc devices list; mc_expect 5 "gateway gone"
	assert_contains "$W/err" "cannot reach"
	start_service gateway
	for s in discovery pki registry syncml; do wait_instances "$s" 1 || fail "$s back on the bus"; done
	mc devices list; mc_expect 0 "gateway back"
}

t_mdmctl_flags_beat_environment() {
	local bad="https://localhost:$((PORT_BASE + 9))"
	mc MDM_URL="$bad" --url "$BASE" devices list; mc_expect 0 "--url over MDM_URL"
	mc --url "$bad" devices list; mc_expect 5 "--url used"
	mc MDM_TOKEN=wrong --token "$ADMIN_TOKEN" devices list; mc_expect 0 "--token over MDM_TOKEN"
	mc --token wrong devices list; mc_expect 3 "--token used"
	mc MDM_CA_FILE=/nonexistent/ca.pem --ca-file "$CA" devices list; mc_expect 0 "--ca-file over MDM_CA_FILE"
	mc MDM_CA_FILE= --insecure devices list; mc_expect 0 "--insecure"
	mc MDM_CA_FILE= MDM_INSECURE=1 devices list; mc_expect 0 "MDM_INSECURE=1"
	mc MDM_CA_FILE= MDM_INSECURE=0 devices list; mc_expect 5 "MDM_INSECURE=0 verifies"
	mc MDM_INSECURE=maybe devices list; mc_expect 2 "MDM_INSECURE must be a boolean"
	# global options go before or after the command words
	mc --json devices list; mc_expect 0 "--json first"
	python3 -c 'import json,sys; json.load(sys.stdin)' <"$W/out" || fail "--json first is JSON"
	mc devices list --json; mc_expect 0 "--json last"
	python3 -c 'import json,sys; json.load(sys.stdin)' <"$W/out" || fail "--json last is JSON"
	mc --url "$BASE/api/v1/" devices list; mc_expect 0 "a URL with /api/v1/ is the same server"
}

t_mdmctl_config_file() {
	local bad="https://localhost:$((PORT_BASE + 9))" f="$W/xdg/mdmctl/config"
	mkdir -p "$W/xdg/mdmctl" "$W/other"
	printf '# test\nurl = %s\ntoken = %s\nca_file = "%s"\n\n' "$BASE" "$ADMIN_TOKEN" "$CA" >"$f"
	chmod 600 "$f"
	# $XDG_CONFIG_HOME/mdmctl/config alone is enough
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= devices list; mc_expect 0 "XDG config file"
	assert_not_contains "$W/err" "warning" "no warning for a 0600 file"
	# ~/.config/mdmctl/config without XDG_CONFIG_HOME
	mkdir -p "$W/home/.config/mdmctl"
	cp -p "$f" "$W/home/.config/mdmctl/config"
	mc XDG_CONFIG_HOME= MDM_URL= MDM_TOKEN= MDM_CA_FILE= devices list; mc_expect 0 "~/.config file"
	# environment beats the file, flags beat both
	mc MDM_URL="$bad" MDM_TOKEN= MDM_CA_FILE= devices list; mc_expect 5 "MDM_URL over the file"
	mc MDM_URL= MDM_TOKEN=wrong MDM_CA_FILE= devices list; mc_expect 3 "MDM_TOKEN over the file"
	assert_contains "$W/err" "the token came from MDM_TOKEN"
	mc MDM_URL= MDM_TOKEN=wrong MDM_CA_FILE= --token "$ADMIN_TOKEN" devices list; mc_expect 0 "--token over both"
	# --config, then $MDMCTL_CONFIG, name another file
	printf 'url = %s\ntoken = wrong-token\nca_file = %s\n' "$BASE" "$CA" >"$W/other/cfg"
	chmod 600 "$W/other/cfg"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= --config "$W/other/cfg" devices list; mc_expect 3 "--config file used"
	assert_contains "$W/err" "the token came from $W/other/cfg"
	assert_not_contains "$W/err" "wrong-token" "the token is never printed"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= MDMCTL_CONFIG="$W/other/cfg" devices list; mc_expect 3 "MDMCTL_CONFIG used"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= MDMCTL_CONFIG="$W/other/cfg" --config "$f" devices list
	mc_expect 0 "--config over MDMCTL_CONFIG"
	mc --config "$W/none/cfg" devices list; mc_expect 2 "a named config file must exist"
	# a file others may read is used, with a warning; bad lines are skipped and named
	chmod 644 "$f"
	printf 'colour = blue\nnot a setting\n' >>"$f"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= devices list; mc_expect 0 "0644 file"
	assert_contains "$W/err" "others may read it (chmod 600 $f)"
	assert_contains "$W/err" "$f:6: unknown key \"colour\""
	assert_contains "$W/err" "$f:7 is not \"key = value\""
	# insecure in the file
	printf 'url = %s\ntoken = %s\ninsecure = 1\n' "$BASE" "$ADMIN_TOKEN" >"$W/other/insecure"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= --config "$W/other/insecure" devices list; mc_expect 0 "insecure = 1"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= MDM_INSECURE=0 --config "$W/other/insecure" devices list
	mc_expect 5 "MDM_INSECURE=0 over insecure = 1"
}

t_mdmctl_devices_list_and_show() {
	local a b odd='{6F9619FF-8B86-D011-B42D-00C04FC964FF}'
	a=$(mc_enroll "$W/a" mc-list-a@example.com) || { fail "enroll a"; return; }
	b=$(mc_enroll "$W/b" mc-list-b@example.com --device-name 'A-very-long-device-name-that-will-not-fit') \
		|| { fail "enroll b"; return; }
	mc_session "$W/a" || fail "session a"
	mc devices list; mc_expect 0 "table"
	local head; head=$(head -1 "$W/out")
	for col in "DEVICE ID" NAME USER PLATFORM STATE OS "LAST SEEN"; do
		assert_contains "$head" "$col" "column $col"
	done
	assert_contains "$W/out" "$a" "device a listed"
	assert_contains "$W/out" "$b" "device b listed"
	assert_contains "$(grep "$a" "$W/out")" "mc-list-a@example.com"
	assert_contains "$(grep "$a" "$W/out")" "enrolled"
	# columns line up: every row has the USER column where the header has it
	local col; col=$(head -1 "$W/out" | grep -bo 'USER' | cut -d: -f1)
	assert_eq "$(grep "$a" "$W/out" | grep -bo 'mc-list-a@' | cut -d: -f1)" "$col" "aligned"
	# long cells are cut, unless --wide
	assert_not_contains "$W/out" "A-very-long-device-name-that-will-not-fit" "long name truncated"
	assert_contains "$W/out" "A-very-long-device-nam" "start of the long name"
	mc devices list --wide; mc_expect 0 "--wide"
	assert_contains "$W/out" "A-very-long-device-name-that-will-not-fit" "--wide keeps it"
	# --json: one document, the API's own
	mc devices list --json; mc_expect 0 "--json"
	assert_eq "$(mc_json '["devices"].__len__() >= 2')" True "devices in the JSON"
	assert_contains "$(mc_json '["devices"]')" "'device_id': '$a'"
	api GET /api/v1/devices
	assert_eq "$(mc_out)" "$API_BODY" "--json is the API's answer as is"
	# pages: --limit 1 says where the next page starts; --all --json merges them
	mc devices list --limit 1; mc_expect 0 "one page"
	assert_eq "$(($(wc -l <"$W/out") - 1))" 1 "one row"
	assert_contains "$W/err" "(more: --cursor "
	local cursor; cursor=$(sed -n 's/^(more: --cursor \([^,]*\),.*/\1/p' "$W/err")
	mc devices list --limit 1 --cursor "$cursor"; mc_expect 0 "second page"
	assert_eq "$(($(wc -l <"$W/out") - 1))" 1 "one row on the second page"
	mc devices list --limit 1 --all --json; mc_expect 0 "--all --json"
	api GET "/api/v1/devices?limit=500"
	local total; total=$(json_get '["devices"].__len__()' <<<"$API_BODY")
	assert_eq "$(mc_json '["devices"].__len__()')" "$total" "every device in one document"
	assert_eq "$(mc_json '["next"]')" None
	mc devices list --limit 1 --all; mc_expect 0 "--all table"
	assert_eq "$(($(wc -l <"$W/out") - 1))" "$total" "every device in one table"
	# filters are sent (the server may or may not apply them yet); they must not break
	mc devices list --platform windows --state enrolled --user mc-list-a@example.com \
		--os-version 10.0.22631.1 --last-seen-after 1h --last-seen-before 2030-01-01 --search 'SIM '
	mc_expect 0 "filters"
	# device show: identity, certificate, inventory, devinfo
	mc device show "$a"; mc_expect 0 "device show"
	for s in "device id" "$a" "mc-list-a@example.com" "certificate thumbprint" "inventory:" \
		"Windows 11 Enterprise" "devinfo:" "Contoso" "last seen"; do
		assert_contains "$W/out" "$s" "device show: $s"
	done
	mc device show "$a" --json; mc_expect 0 "device show --json"
	assert_eq "$(mc_json '["device_id"]')" "$a"
	# ids with { } : are escaped into one path segment
	local c; c=$(mc_enroll "$W/c" mc-list-c@example.com --device-id "$odd") || { fail "enroll odd id"; return; }
	assert_eq "$c" "$odd"
	mc device show "$odd"; mc_expect 0 "braces in the id"
	assert_contains "$W/out" "$odd"
	mc commands list "$odd"; mc_expect 0 "history of a braced id"
	mc lock "$odd"; mc_expect 0 "command for a braced id"
	mc device show "urn:uuid:$odd"; mc_expect 4 "colon in the id"
}

t_mdmctl_table_cells_cannot_drive_the_terminal() {
	# a device names itself with a C1 CSI (U+009B), which some terminals obey
	local id; id=$(mc_enroll "$W/dev" mc-esc@example.com --device-name $'EVIL\u009b31mRED') \
		|| { fail "enroll"; return; }
	mc devices list; mc_expect 0 "list"
	assert_contains "$W/out" "EVIL?31mRED" "C1 control replaced"
	mc device show "$id"; mc_expect 0 "show"
	assert_contains "$W/out" "EVIL?31mRED" "C1 control replaced in device show"
	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]' "$W/out"; then
		fail "control characters in the output"
	fi
}

t_mdmctl_pre_enroll_secret_enrolls_a_device() {
	mc pre-enroll mc-kiosk@example.com --device-name KIOSK-7 --ttl 3600; mc_expect 0 "pre-enroll"
	local secret; secret=$(awk '$1 == "secret" {print $2}' "$W/out")
	assert_eq "${#secret}" 32 "secret printed: $(mc_out)"
	assert_contains "$W/out" "KIOSK-7"
	assert_contains "$W/err" "shown only this once"
	sim enroll --url "$BASE" --cacert "$CA" --auth preenroll --email mc-kiosk@example.com \
		--secret "$secret" --out "$W/kiosk" >"$W/kiosk.log" 2>&1
	assert_eq "$?" 0 "enrolled with the secret: $(cat "$W/kiosk.log")"
	local id; id=$(json_get '["device_id"]' <"$W/kiosk/enrollment.json")
	mc device show "$id"; mc_expect 0 "the pre-enrolled device"
	assert_contains "$W/out" "KIOSK-7" "the device got its name"
	assert_contains "$W/out" "mc-kiosk@example.com"
	# the secret worked once
	sim enroll --url "$BASE" --cacert "$CA" --auth preenroll --email mc-kiosk@example.com \
		--secret "$secret" --out "$W/again" >"$W/again.log" 2>&1
	assert_ne "$?" 0 "the secret is one-time"
	# --json gives it to scripts
	mc pre-enroll mc-kiosk2@example.com --json; mc_expect 0 "pre-enroll --json"
	assert_eq "$(mc_json '["secret"].__len__()')" 32
}

t_mdmctl_lock_then_session_then_wait_done() {
	local id; id=$(mc_enroll "$W/dev" mc-lock@example.com) || { fail "enroll"; return; }
	mc_session "$W/dev" || fail "first session"
	mc lock "$id"; mc_expect 0 "lock"
	assert_eq "$(mc_field state)" queued "state of a new command"
	mc lock "$id" --json; mc_expect 0 "lock --json"
	local cmd; cmd=$(mc_json '["id"]')
	assert_eq "$(mc_json '["state"]')" queued
	# still queued: --wait runs out -> 7
	mc command show "$cmd" --wait 1; mc_expect 7 "still queued"
	assert_contains "$W/err" "still queued after 1 s"
	# wait in the background, then the device checks in
	( mc command show "$cmd" --wait 60; echo "$MC_RC" >"$W/wait.rc"; cp "$W/out" "$W/wait.out" ) &
	local waiter=$!
	sleep 1
	mc_session "$W/dev" || fail "session: $(tail -3 "$W/dev.session.log")"
	wait "$waiter"
	assert_eq "$(cat "$W/wait.rc")" 0 "command show --wait: done"
	assert_eq "$(mc_field state "$W/wait.out")" done "state after the session"
	assert_eq "$(mc_field 'device status' "$W/wait.out")" 200 "device status"
	assert_eq "$(grep -c RemoteLock/Lock "$W/dev/received.jsonl")" 2 "both locks delivered"
	mc commands list "$id"; mc_expect 0 "history"
	assert_contains "$(grep "$cmd" "$W/out")" "done"
	# a command that fails on the device -> 6
	api POST "/api/v1/devices/$id/commands" '{"type":"raw","verb":"Replace","items":[{"target":"./DevInfo/Man","data":"x"}]}'
	local bad; bad=$(json_get '["id"]' <<<"$API_BODY")
	mc_session "$W/dev" || fail "session 3"
	mc command show "$bad" --wait 10; mc_expect 6 "failed on the device"
	assert_contains "$W/err" "ended failed (device status 405)"
	mc command show "$bad"; mc_expect 0 "show without --wait is not a wait"
	# lock --wait queues and waits in one go
	( mc lock "$id" --wait 60; echo "$MC_RC" >"$W/lockwait.rc" ) &
	waiter=$!
	sleep 1
	mc_session "$W/dev" || fail "session 4"
	wait "$waiter"
	assert_eq "$(cat "$W/lockwait.rc")" 0 "lock --wait"
}

t_mdmctl_policy_inventory_reboot_wipe() {
	local id; id=$(mc_enroll "$W/dev" mc-policy@example.com) || { fail "enroll"; return; }
	mc_session "$W/dev" || fail "first session"
	mc policy set "$id" --area DeviceLock --name MinDevicePasswordLength --value 8 --json
	mc_expect 0 "policy set"
	local set=$(mc_json '["id"]')
	assert_contains "$(mc_out)" '"target":"./Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength","format":"int","data":"8"'
	mc policy set "$id" --area Browser --name HomePages --value '<https://x.example/>' --format chr --scope user --json
	mc_expect 0 "policy set chr user"
	assert_contains "$(mc_out)" '"target":"./User/Vendor/MSFT/Policy/Config/Browser/HomePages","format":"chr"'
	mc policy remove "$id" --area Camera --name AllowCamera --json; mc_expect 0 "policy remove"
	assert_contains "$(mc_out)" '"verb":"Delete"'
	mc inventory "$id" --json; mc_expect 0 "inventory"
	local inv=$(mc_json '["id"]')
	mc reboot "$id"; mc_expect 0 "reboot"
	mc wipe "$id" --mode doWipeProtected --yes --json; mc_expect 0 "wipe"
	assert_contains "$(mc_out)" 'RemoteWipe/doWipeProtected'
	mc_session "$W/dev" || fail "session: $(tail -3 "$W/dev.session.log")"
	mc command show "$set" --wait 10; mc_expect 0 "policy done"
	mc command show "$inv" --wait 10; mc_expect 0 "inventory done"
	assert_contains "$W/out" "results:"
	assert_contains "$W/out" "./DevDetail/SwV"
	assert_contains "$W/out" "10.0.22631.4460"
	assert_eq "$(grep -c 'Policy/Config/DeviceLock/MinDevicePasswordLength' "$W/dev/received.jsonl")" 1 "policy delivered"
	assert_eq "$(grep -c 'Reboot/RebootNow' "$W/dev/received.jsonl")" 1 "reboot delivered"
	assert_eq "$(grep -c 'RemoteWipe/doWipeProtected' "$W/dev/received.jsonl")" 1 "wipe delivered"
}

t_mdmctl_users_add_reads_the_password_from_stdin() {
	mc users add mc-stdin@example.com --password-stdin <<<'Corr3ct horse battery'
	mc_expect 0 "users add"
	assert_contains "$W/out" "created user mc-stdin@example.com"
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email mc-stdin@example.com \
		--password 'Corr3ct horse battery' --out "$W/dev" >"$W/dev.log" 2>&1
	assert_eq "$?" 0 "the user enrolls with that password: $(cat "$W/dev.log")"
	# only the first line is the password; a final \r is not part of it
	mc users add mc-crlf@example.com --password-stdin < <(printf 'Pa55word!crlf\r\nsecond line\n')
	mc_expect 0 "CRLF line"
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email mc-crlf@example.com \
		--password 'Pa55word!crlf' --out "$W/dev2" >"$W/dev2.log" 2>&1
	assert_eq "$?" 0 "CR stripped: $(cat "$W/dev2.log")"
}

t_mdmctl_password_prompt_does_not_echo() {
	# mdmctl on a pseudo-terminal: answer both prompts, then look at what the terminal showed
	env -u MDMCTL_CONFIG XDG_CONFIG_HOME="$W/xdg" MDM_URL="$BASE" MDM_TOKEN="$ADMIN_TOKEN" MDM_CA_FILE="$CA" \
		python3 - "$BIN/mdm-ctl" "$W/tty.out" <<'EOF' >"$W/tty.rc" 2>&1
import os, pty, select, sys, time
binary, out_path = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "users", "add", "mc-tty@example.com"])
out, answered, deadline = b"", 0, time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if out.count(b"Password") > answered:
        os.write(fd, b"Tty-Pa55word!\n")
        answered += 1
_, status = os.waitpid(pid, 0)
open(out_path, "wb").write(out)
print(os.waitstatus_to_exitcode(status))
EOF
	assert_eq "$(tail -1 "$W/tty.rc")" 0 "users add on a terminal: $(cat "$W/tty.rc") $(cat "$W/tty.out")"
	assert_contains "$W/tty.out" "Password: " "first prompt"
	assert_contains "$W/tty.out" "Password again: " "confirmation prompt"
	assert_not_contains "$W/tty.out" "Tty-Pa55word" "the password is not echoed"
	assert_contains "$W/tty.out" "created user mc-tty@example.com"
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email mc-tty@example.com \
		--password 'Tty-Pa55word!' --out "$W/dev" >"$W/dev.log" 2>&1
	assert_eq "$?" 0 "the typed password works"
}

t_mdmctl_groups_and_bulk_lock() {
	local a b
	a=$(mc_enroll "$W/a" mc-grp-a@example.com) || { fail "enroll a"; return; }
	b=$(mc_enroll "$W/b" mc-grp-b@example.com) || { fail "enroll b"; return; }
	# where groups are created explicitly (the console's API), create them first
	if mc_route_exists GET /api/v1/groups; then
		mc group create mc-lobby; mc_expect 0 "group create"
		mc group create 'mc front desk'; mc_expect 0 "group create with a space"
	fi
	mc group add mc-lobby "$a" "$b"; mc_expect 0 "group add"
	assert_contains "$W/out" "added 2 devices to group mc-lobby"
	mc group add mc-lobby NoSuchDevice; mc_expect 1 "an unknown device is refused"
	assert_contains "$W/err" "NoSuchDevice"
	mc group show mc-lobby; mc_expect 0 "group show"
	assert_contains "$W/out" "$a"; assert_contains "$W/out" "$b"
	mc group show mc-lobby --json; mc_expect 0 "group show --json"
	assert_eq "$(mc_json '["devices"].__len__()')" 2
	# bulk lock of the group: one command per device
	mc lock --group mc-lobby; mc_expect 0 "bulk lock by group"
	head -1 "$W/out" | grep -q "DEVICE ID  *COMMAND ID  *STATE" || fail "bulk table header: $(mc_out)"
	assert_contains "$(grep "$a" "$W/out")" "queued"
	assert_contains "$(grep "$b" "$W/out")" "queued"
	assert_eq "$(redis LLEN "mdm:q:$a")" 1; assert_eq "$(redis LLEN "mdm:q:$b")" 1
	mc_session "$W/a" || fail "session a"
	mc_session "$W/b" || fail "session b"
	assert_eq "$(grep -c RemoteLock/Lock "$W/a/received.jsonl")" 1 "a locked"
	assert_eq "$(grep -c RemoteLock/Lock "$W/b/received.jsonl")" 1 "b locked"
	# bulk by ids; an unknown one is reported and the exit says so, the others are queued
	mc reboot --devices "$a,NoSuchDevice" --json; mc_expect 1 "bulk with a refusal"
	assert_eq "$(mc_json '["commands"].__len__()')" 1
	assert_eq "$(mc_json '["errors"][0]["device_id"]')" NoSuchDevice
	assert_contains "$W/err" "NoSuchDevice: not_found: no such device"
	mc inventory --devices "$a,$b"; mc_expect 0 "bulk by ids"
	assert_eq "$(redis LLEN "mdm:q:$a")" 2
	assert_eq "$(redis LLEN "mdm:q:$b")" 1
	# the group's name with a space is one path segment
	mc group add 'mc front desk' "$a"; mc_expect 0 "group name with a space"
	mc group show 'mc front desk'; mc_expect 0 "show it"
	assert_contains "$W/out" "$a"
}

t_mdmctl_group_create_list_rename_delete() {
	mc_backend_missing GET /api/v1/groups && return
	mc group create mc-floor1; mc_expect 0 "group create"
	mc group create mc-floor1; mc_expect 1 "group exists: 409"
	mc group create 'bad/name'; assert_ne "$MC_RC" 0 "bad group name refused"
	local id; id=$(mc_enroll "$W/dev" mc-grp-c@example.com) || { fail "enroll"; return; }
	mc group add mc-floor1 "$id"; mc_expect 0 "add"
	mc group list; mc_expect 0 "group list"
	assert_contains "$(head -1 "$W/out")" "GROUP"
	assert_contains "$(grep mc-floor1 "$W/out")" "1"
	mc group list --json; mc_expect 0 "group list --json"
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(g["name"]=="mc-floor1" for g in d["groups"])' <"$W/out" \
		|| fail "group in the JSON list"
	mc group rename mc-floor1 mc-floor2; mc_expect 0 "group rename"
	mc group show mc-floor2; mc_expect 0 "renamed group"
	assert_contains "$W/out" "$id"
	mc group remove mc-floor2 "$id"; mc_expect 0 "group remove"
	mc group show mc-floor2 --json
	assert_eq "$(mc_json '["devices"].__len__()')" 0 "removed"
	mc group delete mc-floor2; mc_expect 0 "group delete"
	mc group rename mc-floor2 mc-floor3; mc_expect 4 "rename a deleted group"
}

t_mdmctl_unenroll_and_force() {
	local id thumb; id=$(mc_enroll "$W/dev" mc-unenroll@example.com) || { fail "enroll"; return; }
	thumb=$(json_get '["thumbprint"]' <"$W/dev/enrollment.json")
	mc unenroll "$id"; mc_expect 2 "--yes required"
	assert_eq "$(redis HGET "mdm:dev:$id" state)" enrolled "nothing done without --yes"
	mc lock "$id" --json; local lock=$(mc_json '["id"]')
	mc unenroll "$id" --yes; mc_expect 0 "unenroll queued"
	assert_contains "$W/out" "unenroll queued for $id: command "
	assert_eq "$(redis HGET "mdm:dev:$id" state)" enrolled "enrolled until delivered"
	mc unenroll "$id" --force --yes; mc_expect 0 "forced"
	assert_contains "$W/out" "unenrolled $id"
	assert_eq "$(redis HGET "mdm:dev:$id" state)" unenrolled
	assert_eq "$(redis HGET "mdm:cert:$thumb" state)" revoked "certificate revoked"
	# the queued lock was cancelled: waiting for it ends at once with 6
	mc command show "$lock" --wait 30; mc_expect 6 "cancelled command"
	assert_contains "$W/err" "ended cancelled"
	mc device show "$id"; assert_contains "$W/out" "unenrolled"
	mc lock "$id"; mc_expect 1 "an unenrolled device takes no commands (409)"
	mc unenroll "$id" --force --yes --json; mc_expect 0 "force again"
	assert_eq "$(mc_json '["state"]')" unenrolled
}

t_mdmctl_users_list_and_revoke() {
	mc_backend_missing GET /api/v1/users && return
	mc users add mc-rev@example.com --password-stdin <<<'Pa55word!rev'; mc_expect 0 "add"
	mc users list; mc_expect 0 "users list"
	assert_contains "$(head -1 "$W/out")" "EMAIL"
	assert_contains "$W/out" "mc-rev@example.com"
	mc users list --json; mc_expect 0 "users list --json"
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(u["email"]=="mc-rev@example.com" for u in d["users"])' <"$W/out" \
		|| fail "user in the JSON list"
	assert_not_contains "$W/out" "Pa55word" "no password in the list"
	mc users revoke mc-rev@example.com; mc_expect 0 "revoke"
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email mc-rev@example.com \
		--password 'Pa55word!rev' --out "$W/dev" >"$W/dev.log" 2>&1
	assert_ne "$?" 0 "a revoked user cannot enroll"
	mc users revoke mc-nobody@example.com; mc_expect 4 "revoke an unknown user"
}

t_mdmctl_pre_enrollments_list_and_revoke() {
	mc_backend_missing GET /api/v1/pre-enrollments && return
	mc pre-enroll mc-pe@example.com --device-name PE-1 --group mc-pe-group --json; mc_expect 0 "create"
	local secret; secret=$(mc_json '["secret"]')
	mc pre-enrollments list; mc_expect 0 "list"
	assert_contains "$(grep mc-pe@example.com "$W/out")" "PE-1"
	assert_not_contains "$W/out" "$secret" "the secret is never listed"
	mc pre-enrollments list --json; mc_expect 0 "list --json"
	local pid; pid=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print([p["id"] for p in d["pre_enrollments"] if p["email"]=="mc-pe@example.com"][0])' <"$W/out")
	assert_ne "$pid" "" "its id"
	mc pre-enrollments revoke "$pid"; mc_expect 0 "revoke"
	sim enroll --url "$BASE" --cacert "$CA" --auth preenroll --email mc-pe@example.com \
		--secret "$secret" --out "$W/dev" >"$W/dev.log" 2>&1
	assert_ne "$?" 0 "a revoked secret does not enroll"
	mc pre-enrollments revoke "$pid"; mc_expect 4 "revoke twice"
}

t_mdmctl_admins_login_save_logout() {
	mc_backend_missing POST /api/v1/login '{}' && return
	mc admins add mc-admin@example.com --role admin --password-stdin <<<'Adm1n-Pa55word'
	mc_expect 0 "admins add"
	mc admins add mc-reader@example.com --role read-only --password-stdin <<<'Read-Pa55word'
	mc_expect 0 "admins add read-only"
	mc admins list; mc_expect 0 "admins list"
	assert_contains "$(grep mc-reader@example.com "$W/out")" "read-only"
	# login prints the token (and only the token) on stdout
	mc MDM_TOKEN= login mc-admin@example.com --password-stdin <<<'Adm1n-Pa55word'
	mc_expect 0 "login"
	local tok; tok=$(mc_out)
	assert_eq "$(wc -l <"$W/out")" 1 "one line"
	assert_contains "$W/err" "logged in as mc-admin@example.com (role admin)"
	mc MDM_TOKEN="$tok" whoami; mc_expect 0 "whoami with the session"
	assert_contains "$W/out" "session"
	assert_contains "$W/out" "mc-admin@example.com"
	mc MDM_TOKEN= login mc-admin@example.com --password-stdin <<<'wrong password'
	mc_expect 3 "wrong password"
	# --save: the file is 0600, holds url and token, and is used from then on
	mc MDM_TOKEN= login mc-reader@example.com --password-stdin --save <<<'Read-Pa55word'
	mc_expect 0 "login --save"
	local f="$W/xdg/mdmctl/config"
	assert_eq "$(stat -c %a "$f")" 600 "config file mode"
	assert_eq "$(stat -c %a "$W/xdg/mdmctl")" 700 "config directory mode"
	assert_eq "$(mc_out)" "" "the saved token is not printed"
	assert_contains "$f" "url = $BASE"
	grep -q '^ca_file = /.*/ca.pem$' "$f" || fail "CA file saved as an absolute path"
	grep -q '^token = ' "$f" || fail "token saved"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= whoami; mc_expect 0 "whoami from the file"
	assert_contains "$W/out" "read-only"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= devices list; mc_expect 0 "read-only may read"
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= lock --devices x,y; mc_expect 3 "read-only may not write (403)"
	assert_contains "$W/err" "403"
	# logout ends the session and removes the token from the file
	mc MDM_URL= MDM_TOKEN= MDM_CA_FILE= logout; mc_expect 0 "logout"
	grep -q '^token' "$f" && fail "token still in the file"
	assert_contains "$f" "url = $BASE" "the rest of the file stays"
	mc MDM_TOKEN="$tok" logout; mc_expect 0 "logout of the first session"
	mc MDM_TOKEN="$tok" whoami; mc_expect 3 "a logged-out session is refused"
	mc admins delete mc-reader@example.com; mc_expect 0 "admins delete"
}

t_mdmctl_tokens() {
	mc_backend_missing GET /api/v1/tokens && return
	mc tokens create mc-ci; mc_expect 0 "tokens create"
	local tok id; tok=$(awk '$1 == "token" {print $2}' "$W/out"); id=$(awk '$1 == "id" {print $2}' "$W/out")
	assert_ne "$tok" "" "token shown once"
	assert_contains "$W/err" "shown only this once"
	assert_contains "$(grep '^role' "$W/out")" "read-only" "default role"
	mc tokens list; mc_expect 0 "tokens list"
	assert_contains "$W/out" "mc-ci"
	assert_not_contains "$W/out" "$tok" "tokens are never listed"
	mc MDM_TOKEN="$tok" devices list; mc_expect 0 "the API token reads"
	mc MDM_TOKEN="$tok" reboot --devices x; mc_expect 3 "a read-only token cannot write"
	mc tokens delete "$id"; mc_expect 0 "tokens delete"
	mc MDM_TOKEN="$tok" devices list; mc_expect 3 "a deleted token is refused"
	mc tokens create mc-admin-token --role admin --json; mc_expect 0 "admin token"
	assert_eq "$(mc_json '["role"]')" admin
}

t_mdmctl_audit() {
	mc_backend_missing GET /api/v1/audit && return
	mc pre-enroll mc-audit@example.com; mc_expect 0 "an audited change"
	mc audit --limit 5; mc_expect 0 "audit"
	assert_contains "$(head -1 "$W/out")" "ACTION"
	assert_contains "$W/out" "preenrollment.create"
	mc audit --action preenrollment.create --since 1h --json; mc_expect 0 "audit --json"
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["events"] and all(e["action"]=="preenrollment.create" for e in d["events"])' <"$W/out" \
		|| fail "filtered by action: $(head -c 300 "$W/out")"
	mc audit --until 2000-01-01 --json; mc_expect 0 "nothing that old"
	assert_eq "$(mc_json '["events"].__len__()')" 0
	mc audit --since tomorrow; mc_expect 2 "bad time"
}

t_mdmctl_stats() {
	mc_backend_missing GET /api/v1/stats && return
	mc_enroll "$W/dev" mc-stats@example.com >/dev/null || { fail "enroll"; return; }
	mc stats; mc_expect 0 "stats"
	for s in devices "state enrolled" "enrollments, 48 h" "commands queued"; do
		assert_contains "$W/out" "$s" "stats: $s"
	done
	mc stats --json; mc_expect 0 "stats --json"
	[ "$(mc_json '["devices"]["total"]')" -ge 1 ] || fail "a device counted"
}

t_mdmctl_whoami_bootstrap() {
	mc_backend_missing GET /api/v1/me && return
	mc whoami; mc_expect 0 "whoami"
	assert_contains "$W/out" "bootstrap"
	assert_contains "$W/out" "admin"
	assert_eq "$(mc_field 'token from')" MDM_TOKEN
	assert_not_contains "$W/out" "$ADMIN_TOKEN" "the token is never printed"
}
