#!/bin/sh
# Runs every cmocka unit test binary in $1/tests and prints one summary line.
# Unit tests find the shared vectors through MDM_VECTORS (default ../shared/vectors).
set -u
build=${1:-build}
: "${MDM_VECTORS:=$(cd "$(dirname "$0")/.." && pwd)/../shared/vectors}"
export MDM_VECTORS
passed=0; failed=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); echo "unit: $t exited $rc"; fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
