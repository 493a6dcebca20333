# docs/openapi.yaml describes every route: the gateway's table (gw_routes.c) and the
# registry's admin API table (reg_api.c), read from the sources (tests/e2e/openapi_routes.py).

t_openapi_documents_every_route() {
	python3 "$E2E_ROOT/tests/e2e/openapi_routes.py" "$E2E_ROOT" >"$W/check.txt" 2>&1 ||
		fail "openapi.yaml is missing routes: $(grep -v '^openapi.yaml: valid' "$W/check.txt" | head -20)"
	# and the document is what the server answers: a route it lists exists
	api GET /api/v1/stats
	assert_eq "$API_STATUS" 200
}
