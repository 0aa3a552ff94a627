#!/usr/bin/env bash
# A route added with curl carries traffic and deleting it brings Destination Unreachable back:
# h1 pings 10.9.0.5 (on h2, behind gateway 10.2.0.2) through ixyd. Before the route the router
# answers "Destination Net Unreachable"; after POST /routes the pings go through and GET /fib
# names the route and the gateway; GET /routes pages; DELETE removes it and the unreachables
# return. PUT /routes replaces the whole set (the old route gone, the new one there).
. "$(dirname "$0")/api_lib.sh"
netns_init api_routes
api_setup
nsx h2 ip addr add 10.9.0.5/32 dev lo
ixyd_start r "$TMPD/api.json"
ixyd_wait_api

unreachable() {
	local out
	out=$(nsx h1 ping -c 1 -W 2 10.9.0.5 2>&1)
	echo "$out" | grep -q "Destination Net Unreachable" ||
		fail "expected Destination Net Unreachable from ixyd, got: $out"
}

say "no route yet: the router says Destination Net Unreachable"
unreachable
expect_status 404 GET "/api/v1/fib?dst=10.9.0.5"

say "POST /routes 10.9.0.0/16 via 10.2.0.2"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}'
[ "$(jq_body 'j["added"]')" = 1 ] || fail "POST answer: $(cat "$TMPD/body")"
nsx h1 ping -c 3 -i 0.2 -W 2 10.9.0.5 >/dev/null || fail "10.9.0.5 unreachable after the route was added"

expect_status 200 GET "/api/v1/fib?dst=10.9.0.5"
[ "$(jq_body 'j["route"]["prefix"], j["route"]["via"], j["nexthop"]["ip"], j["nexthop"]["iface"], j["nexthop"]["state"]')" = \
	"('10.9.0.0/16', '10.2.0.2', '10.2.0.2', 'p1', 'reachable')" ] || fail "fib answer: $(cat "$TMPD/body")"
expect_status 200 GET "/api/v1/fib?dst=10.2.0.77"
[ "$(jq_body 'j["route"]["owner"], j["route"]["type"], j["nexthop"]["ip"]')" = "('connected', 'unicast', '10.2.0.77')" ] ||
	fail "fib for a connected destination: $(cat "$TMPD/body")"

say "GET the route by prefix, both path forms"
expect_status 200 GET /api/v1/routes/10.9.0.0_16
[ "$(jq_body 'j["via"], j["iface"], j["owner"], j["type"], j["selected"]')" = "('10.2.0.2', 'p1', 'api', 'unicast', True)" ] || fail "route: $(cat "$TMPD/body")"
expect_status 200 GET /api/v1/routes/10.9.0.0%2F16
expect_status 404 GET /api/v1/routes/10.8.0.0_16

say "paging: 3 routes (2 connected), in prefix order"
expect_status 200 GET "/api/v1/routes?offset=1&limit=1"
[ "$(jq_body 'j["total"], j["offset"], j["limit"], [r["prefix"] for r in j["routes"]]')" = \
	"(3, 1, 1, ['10.2.0.0/24'])" ] || fail "page: $(cat "$TMPD/body")"
expect_status 200 GET "/api/v1/routes?offset=3"
[ "$(jq_body 'len(j["routes"])')" = 0 ] || fail "page past the end: $(cat "$TMPD/body")"

say "a second POST of the same prefix is a conflict"
expect_status 409 POST /api/v1/routes --json '{"prefix": "10.9.0.0/16", "via": "10.2.0.3"}'
expect_status 409 POST /api/v1/routes --json '[{"prefix": "10.7.0.0/16", "via": "10.2.0.3"}, {"prefix": "10.7.0.0/16", "via": "10.2.0.4"}]'
expect_status 404 GET /api/v1/routes/10.7.0.0_16 # the array was all or nothing

say "DELETE: unreachable again"
expect_status 200 DELETE /api/v1/routes/10.9.0.0_16
unreachable
expect_status 404 DELETE /api/v1/routes/10.9.0.0_16

say "PUT replaces the set"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.8.0.0/16", "via": "10.2.0.3"}'
expect_status 200 PUT /api/v1/routes --json '[{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}]'
expect_status 404 GET /api/v1/routes/10.8.0.0_16
nsx h1 ping -c 3 -i 0.2 -W 2 10.9.0.5 >/dev/null || fail "10.9.0.5 unreachable after PUT"
expect_status 200 PUT /api/v1/routes --json '[]'
unreachable
ixyd_stop
pass "routes added, looked up, paged, replaced and deleted through the API change forwarding"
