#!/usr/bin/env bash
# The full Internet table through PUT /routes. Usage: api_full_table.sh TABLE.txt.xz bench|no-loss
#
# Both modes build two route sets from the table (901,899 prefixes): A sends everything via
# 10.2.0.2, B via 10.2.0.3 (so a replace changes every route); both also hold 10.9.0.0/16 via
# 10.2.0.2, where h2 answers on 10.9.0.5.
#   bench    times curl's PUT of A (end to end: upload, parse, one publication, the state file
#            written and fsynced), then of B replacing A, and prints the figures (label perf:
#            never fails on time; the target is 2 s).
#   no-loss  h1 sends UDP datagrams at 2000 per second to 10.9.0.5 through ixyd from before the
#            first PUT until after the last of A, B and A again (each checked to have replaced
#            the table); h2 counts them: every one must arrive (label netns).
# Every PUT must answer 200 and leave all N + 3 routes in place; its only time bound is a hang
# guard (PUT_HANG_GUARD_S).
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

# Hang guard only: a PUT that has not finished after this long is stuck, not slow (the bench
# reports the time, it never fails on it). The ctest TIMEOUTs leave room for every PUT to use it.
PUT_HANG_GUARD_S=600

put() { # SET: PUT it; prints curl's total time and the server's breakdown, or why it failed (rc 1)
	local t why
	rm -f "$TMPD/body"
	t=$(nsx r curl -s -g -m "$PUT_HANG_GUARD_S" -o "$TMPD/body" -w '%{http_code} %{time_total}' \
		-X PUT -H 'Expect:' --json @"$TMPD/routes$1.json" "$API_URL/api/v1/routes")
	if [ "${t%% *}" != 200 ]; then
		[ "${t%% *}" = 000 ] && t="$t (no answer within the ${PUT_HANG_GUARD_S} s hang guard?)"
		echo "PUT of set $1: $t $(head -c 300 "$TMPD/body" 2>/dev/null)"
		return 1
	fi
	why=$(jq_body '"parse %.3f s, apply %.3f s, save %.3f s" % (j["seconds"]["parse"], j["seconds"]["apply"], j["seconds"]["save"])') ||
		{ echo "PUT of set $1: no timing breakdown in the answer: $(head -c 300 "$TMPD/body")"; return 1; }
	echo "${t#* } $why"
}

routes_are() { # SET_GW WHEN: the table holds every route of a set, and 1.0.0.1 goes via SET_GW
	expect_status 200 GET "/api/v1/routes?limit=1"
	local total
	total=$(jq_body 'j["total"]')
	# N prefixes and 10.9.0.0/16 from the set, the two connected /24s of the ports.
	[ "$total" = $((N + 3)) ] || fail "$2 the table has $total routes, expected $((N + 3))"
	expect_status 200 GET "/api/v1/fib?dst=1.0.0.1"
	[ "$(jq_body 'j["route"]["via"]')" = "$1" ] || fail "$2 1.0.0.1 is not via $1: $(head -c 300 "$TMPD/body")"
}

if [ "$MODE" = bench ]; then
	out=$(put A) || fail "$out"
	read -r tA restA <<<"$out"
	routes_are 10.2.0.2 "after the load"
	out=$(put B) || fail "$out"
	read -r tB restB <<<"$out"
	routes_are 10.2.0.3 "after the replace"
	nsx h1 ping -c 2 -i 0.2 -W 2 10.9.0.5 >/dev/null || fail "10.9.0.5 unreachable after the load"
	# One route change on top of the full table: what saving it costs (the "save" figure).
	t1=$(nsx r curl -s -g -m 60 -o "$TMPD/body" -w '%{time_total}' -X POST \
		--json '{"prefix": "10.10.0.0/16", "via": "10.2.0.2"}' "$API_URL/api/v1/routes")
	save1=$(jq_body '"%.4f" % j["seconds"]["save"]') || fail "POST of one route: $(head -c 300 "$TMPD/body")"
	expect_status 200 DELETE /api/v1/routes/10.10.0.0_16
	say "one route added to the full table: $t1 s end to end, save $save1 s"
	rate=$($PY -c "print('%.0f' % ($N / $tA))")
	say "server side, load: $restA; replace: $restB"
	echo "api_bench_full_table_put: $((N + 1)) routes, one PUT /routes: $tA s end to end ($rate routes/s); replacing them all: $tB s (target: 2 s); one more route: $t1 s, of which saving $save1 s"
	ixyd_stop
	pass "full table loaded and replaced through the API"
fi

# no-loss
h2ns=$(nsname h2)
h1ns=$(nsname h1)
ip netns exec "$h2ns" "$PY" "$(dirname "$0")/udp_count.py" recv 10.9.0.5 9999 3 >"$TMPD/recv.out" 2>&1 &
RECV=$!
sleep 0.5
# The sender runs until told to stop after the last PUT, however long the PUTs take (its own
# bound, 1800 s, only guards against a sender left behind).
ip netns exec "$h1ns" "$PY" "$(dirname "$0")/udp_count.py" send 10.9.0.5 9999 2000 1800 >"$TMPD/send.out" 2>&1 &
SEND=$!
sleep 1
for set in A B A; do
	out=$(put "$set") || fail "$out"
	say "PUT of set $set during traffic: ${out%% *} s (${out#* })"
	[ "$set" = A ] && gw=10.2.0.2 || gw=10.2.0.3
	routes_are "$gw" "after the PUT of set $set during traffic"
done
kill -0 "$SEND" 2>/dev/null || fail "the sender stopped before the last PUT was done: $(cat "$TMPD/send.out")"
sleep 1
kill -TERM "$SEND"
wait "$SEND"
wait "$RECV"
sent=$(awk '{print $2}' "$TMPD/send.out")
read -r _ received _ distinct _ missing <"$TMPD/recv.out"
say "sent $sent, received $received (distinct $distinct, missing $missing)"
# 2000 per second for at least the second after the last PUT (in practice for all of them too).
[[ "$sent" =~ ^[0-9]+$ ]] && [ "$sent" -ge 2000 ] || fail "the sender sent too little: $(cat "$TMPD/send.out")"
[[ "$distinct" =~ ^[0-9]+$ ]] || fail "the receiver reported nothing usable: $(cat "$TMPD/recv.out")"
[ "$distinct" = "$sent" ] && [ "$missing" = 0 ] ||
	fail "lost $((sent - distinct)) of $sent datagrams while the full table was loaded and replaced"
ixyd_stop
pass "no datagram lost while $N routes were loaded, replaced and loaded again"
