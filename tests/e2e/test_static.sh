# The gateway serves the web console's static files at /admin/ and nothing else.

t_static_console_files_only() {
	local code
	code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$BASE/admin")
	assert_eq "$code" 301 "/admin redirects to /admin/"
	for p in "/admin/../README.md" "/admin/%2e%2e/README.md" "/admin/..%2fMakefile" "/admin//etc/passwd" \
		"/admin/index.html.bak" "/admin/nothing.js"; do
		code=$(curl -s --path-as-is --cacert "$CA" -o "$W/out" -w '%{http_code}' "$BASE$p")
		assert_eq "$code" 404 "refused: $p"
		assert_not_contains "$W/out" "root:" "no file outside the console folder"
	done
	code=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -X POST "$BASE/admin/index.html")
	assert_eq "$code" 405 "read-only"
	if [ -f "$E2E_ROOT/admin/index.html" ]; then
		code=$(curl -s --cacert "$CA" -D "$W/h" -o "$W/index.html" -w '%{http_code}' "$BASE/admin/")
		assert_eq "$code" 200 "console index"
		assert_contains "$W/h" "Content-Security-Policy: default-src 'self'"
		assert_contains "$W/h" "text/html"
		assert_eq "$(cmp -s "$W/index.html" "$E2E_ROOT/admin/index.html" && echo same)" same "served as is"
	fi
}
