#!/usr/bin/env bash
# The full Internet table through PUT /routes. Usage: api_full_table.sh TABLE.txt.xz bench|no-loss
#
# Both modes build two route sets from the table (901,899 prefixes): A sends everything via
# 10.2.0.2, B via 10.2.0.3 (so a replace changes every route); both also hold 10.9.0.0/16 via
# 10.2.0.2, where h2 answers on 10.9.0.5.
#   bench    times curl's PUT of A (end to end: upload, parse, one publication, the state file
#            written and fsynced), then of B replacing A, and prints the figures (label perf:
#            never fails on time; the target is 2 s).
#   no-loss  h1 sends UDP datagrams at 2000 per second to 10.9.0.5 through ixyd while A, B and A
#            again are PUT; h2 counts them: every one must arrive (label netns).
. "$(dirname "$0")/api_lib.sh"
TABLE=$1
MODE=${2:-bench}
netns_init "api_full_table_$MODE"
[ -r "$TABLE" ] || skip "no table at $TABLE"
api_setup
nsx h2 ip addr add 10.9.0.5/32 dev lo
ixyd_start r "$TMPD/api.json"
ixyd_wait_api

say "building the route sets"
xzcat "$TABLE" | $PY -c '
import sys
prefixes = [l.strip() for l in sys.stdin if l.strip() and not l.startswith("#")]
for name, via in (("A", "10.2.0.2"), ("B", "10.2.0.3")):
    with open(sys.argv[1] + "/routes" + name + ".json", "w") as f:
        f.write("[")
        f.write(",\n".join("{\"prefix\": \"%s\", \"via\": \"%s\"}" % (p, via) for p in prefixes))
        f.write(",\n{\"prefix\": \"10.9.0.0/16\", \"via\": \"10.2.0.2\"}]\n")
print(len(prefixes))
' "$TMPD" >"$TMPD/count" || fail "cannot build the route sets"
N=$(cat "$TMPD/count")
say "$N prefixes, $(($(stat -c %s "$TMPD/routesA.json") / 1000000)) MB of JSON per set"

h2mac=$(nsx h2 cat /sys/class/net/hv0/address)
expect_status 201 POST /api/v1/neighbors --json "{\"ip\": \"10.2.0.2\", \"mac\": \"$h2mac\"}"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.9.0.0/16", "via": "10.2.0.2"}'
nsx h1 ping -c 2 -i 0.2 -W 2 10.9.0.5 >/dev/null || fail "10.9.0.5 unreachable before the load"

put() { # SET: PUT it, print curl's total time and the server's breakdown
	local t
	t=$(nsx r curl -s -g -m 120 -o "$TMPD/body" -w '%{http_code} %{time_total}' -X PUT \
		-H 'Expect:' --json @"$TMPD/routes$1.json" "$API_URL/api/v1/routes")
	[ "${t%% *}" = 200 ] || fail "PUT of set $1: $t $(head -c 300 "$TMPD/body")"
	echo "${t#* } $(jq_body '"parse %.3f s, apply %.3f s, save %.3f s" % (j["seconds"]["parse"], j["seconds"]["apply"], j["seconds"]["save"])')"
}

if [ "$MODE" = bench ]; then
	read -r tA restA < <(put A)
	expect_status 200 GET "/api/v1/routes?limit=1"
	total=$(jq_body 'j["total"]')
	[ "$total" = $((N + 3)) ] || fail "after the load the table has $total routes, expected $((N + 3))"
	read -r tB restB < <(put B)
	expect_status 200 GET "/api/v1/fib?dst=1.0.0.1"
	[ "$(jq_body 'j["route"]["via"]')" = 10.2.0.3 ] || fail "after the replace 1.0.0.1 is not via 10.2.0.3"
	nsx h1 ping -c 2 -i 0.2 -W 2 10.9.0.5 >/dev/null || fail "10.9.0.5 unreachable after the load"
	rate=$($PY -c "print('%.0f' % ($N / $tA))")
	say "server side, load: $restA; replace: $restB"
	echo "api_bench_full_table_put: $((N + 1)) routes, one PUT /routes: $tA s end to end ($rate routes/s); replacing them all: $tB s (target: 2 s)"
	ixyd_stop
	pass "full table loaded and replaced through the API"
fi

# no-loss
h2ns=$(nsname h2)
h1ns=$(nsname h1)
ip netns exec "$h2ns" "$PY" "$(dirname "$0")/udp_count.py" recv 10.9.0.5 9999 3 >"$TMPD/recv.out" 2>&1 &
RECV=$!
sleep 0.5
ip netns exec "$h1ns" "$PY" "$(dirname "$0")/udp_count.py" send 10.9.0.5 9999 2000 15 >"$TMPD/send.out" 2>&1 &
SEND=$!
sleep 1
for set in A B A; do
	read -r t rest < <(put "$set")
	say "PUT of set $set during traffic: $t s ($rest)"
done
wait "$SEND"
wait "$RECV"
sent=$(awk '{print $2}' "$TMPD/send.out")
read -r _ received _ distinct _ missing <"$TMPD/recv.out"
say "sent $sent, received $received (distinct $distinct, missing $missing)"
[ -n "$sent" ] && [ "$sent" -gt 10000 ] || fail "the sender sent too little: $(cat "$TMPD/send.out")"
[ "$distinct" = "$sent" ] && [ "$missing" = 0 ] ||
	fail "lost $((sent - distinct)) of $sent datagrams while the full table was loaded and replaced"
ixyd_stop
pass "no datagram lost while $N routes were loaded, replaced and loaded again"
