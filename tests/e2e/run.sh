#!/bin/bash
# End-to-end tests: real redis-server, gateway and services on loopback, the device
# simulator over HTTPS. Usage: tests/e2e/run.sh [BUILD_DIR] [name-filter]
set -u
export BUILD=${1:-build}
FILTER=${2:-${E2E_FILTER:-}}
source "$(dirname "$0")/lib.sh"
LOAD_FAIL=0
for f in "$E2E_ROOT"/tests/e2e/test_*.sh; do
	# a test file that does not parse must fail the run, not silently drop its tests
	if bash -n "$f"; then source "$f"; else echo "not ok - cannot load $f"; LOAD_FAIL=1; fi
done

have_vectors() {
	[ -d "$VECTORS/windows" ] && return 0
	if [ "${CI:-}" = true ]; then
		fail "vectors folder $VECTORS missing (required under CI=true)"
		return 1
	fi
	echo "    skipped: no vectors folder at $VECTORS (set MDM_VECTORS)"
	T_SKIP=1
	return 1
}

rm -rf "$E2E_OUT" && mkdir -p "$E2E_OUT"
[ -L "$E2E_ROOT/tests/out/e2e" ] || rm -rf "$E2E_ROOT/tests/out/e2e"
ln -sfn "$(basename "$E2E_OUT")" "$E2E_ROOT/tests/out/e2e"
trap 'stop_stack' EXIT
if ! start_stack; then
	echo "e2e: could not start the stack; logs:"; tail -n 20 "$E2E_OUT"/*.log
	echo "e2e: 0 passed, 1 failed"
	exit 1
fi
passed=0; failed=$LOAD_FAIL; skipped=0
for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	[ -n "$FILTER" ] && [[ "$t" != *$FILTER* ]] && continue
	T_FAILS=0; T_SKIP=0
	W="$E2E_OUT/$t"; mkdir -p "$W"
	start=$(date +%s)
	"$t"
	secs=$(( $(date +%s) - start ))
	if [ "$T_FAILS" -gt 0 ]; then
		echo "not ok - $t (${secs}s)"; failed=$((failed + 1))
	elif [ "$T_SKIP" = 1 ]; then
		echo "ok - $t # skip"; skipped=$((skipped + 1))
	else
		echo "ok - $t (${secs}s)"; passed=$((passed + 1))
	fi
done
stop_stack
trap - EXIT
# a sanitizer report in any process's log is a failure even if every test passed
if grep -l "runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer" "$E2E_OUT"/*.log >"$E2E_OUT/sanitizer.txt" 2>/dev/null; then
	echo "not ok - sanitizer reports in: $(tr '\n' ' ' <"$E2E_OUT/sanitizer.txt")"
	failed=$((failed + 1))
fi
if [ "$failed" -gt 0 ]; then
	echo "--- last log lines ---"
	for l in "$E2E_OUT"/*.log; do echo "== $l"; tail -n 8 "$l"; done
fi
echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
