#!/usr/bin/env bash
# Bad input gets the right status and a JSON error body every time, and forwarding carries on:
# a ping from h1 to h2 runs throughout (100 per second) and must lose nothing. Cases: malformed
# JSON, 10.0.0.0/33, host bits, a gateway off every subnet, a connected subnet, an unknown port
# and path, bodies of 10 MB (with Content-Length, and chunked) and 129 MiB on the route-list
# endpoint, a wrong method (405 with Allow), a non-JSON content type, bad paging and fib
# queries, and 300 concurrent connections for 4 seconds (tests/api/api_flood.py).
. "$(dirname "$0")/api_lib.sh"
netns_init api_bad_input
api_setup
ixyd_start r "$TMPD/api.json"
ixyd_wait_api
nsx h1 ping -c 3 -i 0.2 -W 2 10.2.0.2 >/dev/null || fail "no forwarding before the test"
# ip netns exec execs ping, so $PING is ping's own pid (SIGINT makes it print its summary);
# -w bounds it should the test die before stopping it.
ip netns exec "$(nsname h1)" ping -i 0.01 -W 1 -w 150 10.2.0.2 >"$TMPD/ping.out" 2>&1 &
PING=$!

R=/api/v1/routes
expect_status 400 POST $R --json '{"prefix": "10.9.0.0/16", "via": '
expect_status 400 POST $R --json '[{"prefix": "10.0.0.0/33", "via": "10.2.0.2"}]'
grep -q "prefix length above 32" "$TMPD/body" || fail "/33: $(cat "$TMPD/body")"
expect_status 400 POST $R --json '{"prefix": "10.0.0.1/8", "via": "10.2.0.2"}'
grep -q "host bits set" "$TMPD/body" || fail "host bits: $(cat "$TMPD/body")"
expect_status 400 POST $R --json '{"prefix": "10.9.0.0/16", "via": "10.5.0.2"}'
expect_status 400 POST $R --json '{"prefix": "10.9.0.0/16", "via": "10.2.0.1"}' # our own address
expect_status 400 POST $R --json '{"prefix": "10.9.0.0/16", "via": "10.2.0.2", "metric": 5}'
expect_status 409 POST $R --json '{"prefix": "10.2.0.0/24", "via": "10.1.0.2"}'
expect_status 400 PUT $R --json '{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}' # PUT wants an array
expect_status 400 PUT $R --json '[{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}, {"prefix": "10.0.0.0/33", "via": "10.2.0.2"}]'
expect_status 400 GET $R/10.0.0.0_33
expect_status 400 GET $R/10.0.0.1_8
expect_status 400 DELETE $R/garbage
expect_status 400 GET "$R?limit=0"
expect_status 400 GET "$R?offset=-5"
expect_status 400 GET "/api/v1/fib?dst=10.1.2"
expect_status 400 GET "/api/v1/fib"
expect_status 404 GET /api/v1/ports/p9
expect_status 404 GET /api/v1/ports/p9/stats
expect_status 404 PATCH /api/v1/ports/p9 --json '{"promisc": true}'
expect_status 404 DELETE "/api/v1/mac-table?port=p9"
expect_status 404 GET /api/v1/nothing
expect_status 404 GET /nothing
expect_status 400 POST /api/v1/neighbors --json '{"ip": "10.2.0.9", "mac": "zz:00:00:00:00:09"}'
expect_status 400 POST /api/v1/neighbors --json '{"ip": "10.7.0.9", "mac": "02:00:00:00:00:09"}'
expect_status 400 POST /api/v1/neighbors --json '[]'
expect_status 415 POST $R -d 'prefix=10.9.0.0/16'
expect_status 415 PATCH /api/v1/ports/p0 -H 'Content-Type: text/plain' -d '{"promisc": true}'

say "wrong methods: 405 with Allow"
for m in DELETE PUT PATCH; do
	expect_status 405 "$m" /api/v1/health
done
nsx r curl -s -i -X DELETE "$API_URL/api/v1/ports" | tr -d '\r' | grep -q '^Allow: GET$' || fail "no Allow: GET on 405"
nsx r curl -s -i -X DELETE "$API_URL$R" | tr -d '\r' | grep -q '^Allow: GET, POST, PUT$' || fail "no Allow: GET, POST, PUT on 405"

say "big bodies: 413"
head -c 10000000 /dev/zero | tr '\0' ' ' >"$TMPD/10mb"
expect_status 413 PATCH /api/v1/ports/p0 --json @"$TMPD/10mb"
expect_status 413 POST /api/v1/neighbors -H 'Transfer-Encoding: chunked' --json @"$TMPD/10mb"
truncate -s 129M "$TMPD/129mb"
expect_status 413 PUT $R --json @"$TMPD/129mb"
rm -f "$TMPD/10mb" "$TMPD/129mb"

say "300 concurrent connections for 4 s"
nsx r "$PY" "$(dirname "$0")/api_flood.py" 127.0.0.1 8080 300 4 >"$TMPD/flood.out" 2>&1
rc=$?
cat "$TMPD/flood.out"
[ "$rc" = 0 ] || fail "concurrent clients got wrong answers or broken connections"
expect_status 200 GET /api/v1/health
expect_status 200 GET "$R?limit=10"
[ "$(jq_body 'j["total"]')" = 2 ] || fail "a bad request changed the routes: $(cat "$TMPD/body")"

kill -INT "$PING"
wait "$PING"
# Count by sequence number: every request up to the last one answered must have its reply (the
# one in flight when SIGINT came is no loss of ours).
read -r answered last < <(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$TMPD/ping.out" | sort -n -u |
	awk '{n++; last=$1} END {print n+0, last+0}')
say "ping throughout: $answered replies, the last to request $last"
[ "$last" -ge 300 ] || fail "the ping ran too short: $(tail -n 3 "$TMPD/ping.out")"
[ "$answered" = "$last" ] || fail "forwarding lost $((last - answered)) of $last pings during the bad input"
ixyd_stop
pass "every bad request got its status and a JSON error; forwarding lost nothing"
