# The admin console (admin/) in a real browser: Debian's chromium, headless, driven by
# playwright-core from tests/browser/. Needs /usr/bin/chromium (apt: chromium) and
# tests/browser/node_modules (`npm ci --prefix tests/browser`); nothing is installed
# here. Without them the tests say they are skipped, except under CI=true.
# Screenshots: tests/out/browser/*.png; browser logs: $W/*.log.

BR_DIR="$E2E_ROOT/tests/browser"
BR_OUT="$E2E_ROOT/tests/out/browser"

br_ready() {
	local missing=""
	[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || missing="$missing ${CHROMIUM:-/usr/bin/chromium}"
	command -v node >/dev/null 2>&1 || missing="$missing node"
	[ -f "$BR_DIR/node_modules/playwright-core/package.json" ] ||
		missing="$missing tests/browser/node_modules (npm ci --prefix tests/browser)"
	[ -z "$missing" ] && return 0
	if [ "${CI:-}" = true ]; then
		fail "the browser test needs:$missing (required under CI=true)"
		return 1
	fi
	echo "    skipped: the browser test needs:$missing"
	T_SKIP=1
	return 1
}

# br_console: sets BR_URL to the console. The gateway's own /admin/ when it serves the
# console; otherwise tests/browser/serve.mjs stands in for it (the same security
# headers, /api/ forwarded to this gateway).
br_console() {
	BR_URL=""
	local got
	got=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code} %{content_type}' "$BASE/admin/")
	case "$got" in
	"200 text/html"*) BR_URL="$BASE/admin/"; return 0 ;;
	esac
	echo "    (the gateway answers /admin/ with [$got]: using tests/browser/serve.mjs)"
	: >"$E2E_OUT/browser-serve.log"
	start_proc browser-serve node "$BR_DIR/serve.mjs" --upstream "$BASE" --ca "$CA" --port 0
	wait_until "console stand-in" grep -q '^listening ' "$E2E_OUT/browser-serve.log" || return 1
	BR_URL="$(sed -n 's/^listening //p' "$E2E_OUT/browser-serve.log" | head -1)/admin/"
}

t_browser_dashboard() {
	br_ready || return 0
	create_user browser@example.com 'Pa55word!x' || { fail "create user"; return; }
	sim enroll --url "$BASE" --cacert "$CA" --auth onprem --email browser@example.com \
		--password 'Pa55word!x' --out "$W/dev" >"$W/enroll.log" 2>&1 || { fail "enroll: $(tail -3 "$W/enroll.log")"; return; }
	local id; id=$(json_get '["device_id"]' <"$W/dev/enrollment.json")
	# first contact: DevInfo and inventory on the device page
	sim manage --dir "$W/dev" --cacert "$CA" >"$W/session1.log" 2>&1 || { fail "first session"; return; }
	br_console || { fail "no console to test: $(tail -3 "$E2E_OUT/browser-serve.log")"; return; }
	mkdir -p "$BR_OUT"
	rm -f "$BR_OUT"/dashboard-*.png
	BASE_URL="$BASE" ADMIN_URL="$BR_URL" CA="$CA" ADMIN_TOKEN="$ADMIN_TOKEN" DEVICE_ID="$id" \
		SIM_SESSION_CMD="'$BIN/mdm-sim' manage --dir '$W/dev' --cacert '$CA' >>'$W/session2.log' 2>&1" \
		OUT_DIR="$BR_OUT" timeout 180 node "$BR_DIR/dashboard.test.mjs" >"$W/browser.log" 2>&1
	local rc=$?
	stop_proc browser-serve
	if [ "$rc" != 0 ]; then
		fail "dashboard.test.mjs exit $rc: $(grep -E '^ *(not ok|error:|# fail)' "$W/browser.log" | head -8)"
		sed -n '1,200p' "$W/browser.log" | grep -vE '^ *(duration_ms|location|stack):' | tail -40
		return
	fi
	grep -o '^# sign-in: .*' "$W/browser.log" | sed 's/^# /    /'
	[ -s "$BR_OUT/dashboard-05-device-done.png" ] || fail "no screenshot of the device page"
	# the lock really reached the device, once
	assert_eq "$(grep -c RemoteLock/Lock "$W/dev/received.jsonl" 2>/dev/null)" 1 "lock delivered to the simulator"
}

# Every console page against the API contract, with the API answered by the test (no
# server needed): counters and chart refresh, filters and paging, the one-time secret,
# groups, audit filters, read-only role, typed wipe confirmation, ended session.
t_browser_views() {
	br_ready || return 0
	mkdir -p "$BR_OUT"
	rm -f "$BR_OUT"/views-*.png
	OUT_DIR="$BR_OUT" timeout 300 node "$BR_DIR/views.test.mjs" >"$W/browser.log" 2>&1
	local rc=$?
	if [ "$rc" != 0 ]; then
		fail "views.test.mjs exit $rc: $(grep -E '^ *(not ok|# fail)' "$W/browser.log" | head -8)"
		grep -vE '^ *(duration_ms|location|stack):' "$W/browser.log" | tail -40
	fi
}
