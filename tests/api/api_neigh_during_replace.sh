#!/usr/bin/env bash
# Neighbour resolution never waits behind a route replace (issue 10 part 6).
# Usage: api_neigh_during_replace.sh TABLE.txt.xz
#
# ixyd starts with only its connected routes; p1 is 10.2.0.1/16 and h2 answers ARP for every
# address of 10.2.128.0/17 (a local route on its loopback). h1 sends a train of fresh
# neighbours (fresh_neigh.py): a new destination in 10.2.128.0/17 every NEW_MS ms, each getting
# a datagram every EACH_MS ms for LIFE_MS ms. The train runs from before the full-table
# PUT /routes (901,899 prefixes) starts until after it has answered, so the whole replace,
# whatever its length, lies inside it: every NEW_MS ms of the replace a destination needs a
# neighbour it has never had. The test checks that the replace was long enough for that to
# matter (its "apply" phase at least MIN_APPLY_NEW x NEW_MS; else it retries once, then fails).
# Drops in the first attempt are reported (which destinations, the port's device counters) and
# the measurement repeats once with fresh destinations: the stall this test is about drops in
# every attempt, a lone lost ARP exchange does not.
#
# Asserts, for the whole train:
#   - no arp_unresolved drop on the ingress port p0 (GET /ports/p0/stats, before and after);
#     ixyd holds the first 4 datagrams per unresolved address and drops the rest, so any
#     resolution slower than 4 x EACH_MS during the replace is a drop here;
#   - every datagram arrived at h2, and every destination is a resolved neighbour (GET
#     /neighbors) with h2's MAC;
#   - each destination started during the PUT had its first datagram through within
#     RESOLVE_BOUND_MS of sending its first (the resolution latency; a few ms when idle, while
#     a replace holding the lock resolution needs stalls it for the whole "apply" phase).
# Prints the PUT's time, its server-side breakdown, what was sent, held and dropped, and the
# resolution latencies before and during the PUT.
. "$(dirname "$0")/api_lib.sh"
TABLE=$1
netns_init api_neigh_during_replace
[ -r "$TABLE" ] || skip "no table at $TABLE"
NEW_MS=20
EACH_MS=10
LIFE_MS=200
RESOLVE_BOUND_MS=50 # past 4 x EACH_MS (40 ms) the oldest held datagrams are dropped anyway
MIN_APPLY_NEW=3
PUT_HANG_GUARD_S=45 # hang guard; the sender runs at most 60 s (3000 destinations, < the 4096 neighbours)
api_setup
# p1 takes a /16 so 10.2.128.0/17 holds thousands of fresh neighbours; h2 keeps its /24 and
# 10.2.0.1 stays a neighbour it reaches on hv0.
sed -i 's#"10.2.0.1/24"#"10.2.0.1/16"#' "$TMPD/api.json"
nsx h2 ip route add local 10.2.128.0/17 dev lo || fail "cannot give h2 10.2.128.0/17"
ixyd_start r "$TMPD/api.json"
ixyd_wait_api

say "building the route set"
xzcat "$TABLE" | $PY -c '
import sys
prefixes = [l.strip() for l in sys.stdin if l.strip() and not l.startswith("#")]
with open(sys.argv[1] + "/routes.json", "w") as f:
    f.write("[")
    f.write(",\n".join("{\"prefix\": \"%s\", \"via\": \"10.2.0.2\"}" % p for p in prefixes))
    f.write("]\n")
print(len(prefixes))
' "$TMPD" >"$TMPD/count" || fail "cannot build the route set"
N=$(cat "$TMPD/count")
h2mac=$(nsx h2 cat /sys/class/net/hv0/address)
# The path itself, and h1's own neighbour entry for the router, before anything is measured.
nsx h1 ping -c 2 -i 0.2 -W 2 10.2.0.2 >/dev/null || fail "h2 unreachable from h1"

arp_unresolved() {
	expect_status 200 GET /api/v1/ports/p0/stats
	jq_body 'j["drops"]["arp_unresolved"]'
}

mono() { $PY -c 'import time; print("%.6f" % time.monotonic())'; }

h1ns=$(nsname h1)
h2ns=$(nsname h2)
base=10.2.128.0 # a retry uses 10.2.192.0 on: its destinations are fresh too
attempt=0
while :; do
	attempt=$((attempt + 1))
	d0=$(arp_unresolved)
	ip netns exec "$h2ns" "$PY" "$(dirname "$0")/fresh_neigh.py" recv "$base" 9999 >"$TMPD/recv.out" 2>&1 &
	RECV=$!
	sleep 0.3
	ip netns exec "$h1ns" "$PY" "$(dirname "$0")/fresh_neigh.py" send "$base" 9999 \
		"$NEW_MS" "$EACH_MS" "$LIFE_MS" 60 >"$TMPD/send.out" 2>&1 &
	SEND=$!
	for _ in $(seq 100); do grep -qs '^started' "$TMPD/send.out" && break; sleep 0.05; done
	grep -q '^started' "$TMPD/send.out" || fail "the sender did not start: $(cat "$TMPD/send.out")"
	sleep 0.3 # a few destinations resolved before the PUT: the baseline
	t0=$(mono)
	rm -f "$TMPD/put.body"
	put=$(nsx r curl -s -g -m "$PUT_HANG_GUARD_S" -o "$TMPD/put.body" -w '%{http_code} %{time_total}' \
		-X PUT -H 'Expect:' --json @"$TMPD/routes.json" "$API_URL/api/v1/routes")
	t1=$(mono)
	sleep 0.3 # destinations started at the end of the PUT resolve too
	kill -0 "$SEND" 2>/dev/null || fail "the sender stopped before the PUT was done: $(cat "$TMPD/send.out")"
	kill -TERM "$SEND"
	wait "$SEND"
	sleep $(((LIFE_MS + 999) / 1000)).5 # the last destinations' datagrams, held ones included
	kill -TERM "$RECV"
	wait "$RECV"
	d1=$(arp_unresolved)
	cp "$TMPD/put.body" "$TMPD/body" # for jq_body
	[ "${put%% *}" = 200 ] || fail "PUT /routes: ${put%% *} $(head -c 300 "$TMPD/body")"
	apply=$(jq_body 'j["seconds"]["apply"]')
	breakdown=$(jq_body '"parse %.3f s, apply %.3f s, save %.3f s" % (j["seconds"]["parse"], j["seconds"]["apply"], j["seconds"]["save"])')
	say "attempt $attempt: PUT of $N routes took ${put#* } s ($breakdown)"
	if ! $PY -c "import sys; sys.exit(0 if $apply * 1000 >= $MIN_APPLY_NEW * $NEW_MS else 1)"; then
		[ "$attempt" -lt 2 ] ||
			fail "the replace was too short (apply $apply s < $MIN_APPLY_NEW x $NEW_MS ms) to overlap fresh neighbours, twice"
		say "apply took $apply s, less than $MIN_APPLY_NEW x $NEW_MS ms: no certain overlap, once more"
	elif [ $((d1 - d0)) -gt 0 ] && [ "$attempt" -lt 2 ]; then
		# Drops once: say where they were, then measure again with fresh destinations. A
		# replace that stalls resolution (the bug this test is for) drops in every attempt
		# (it failed 7 of 7 runs on the old code); a single lost ARP exchange, which the
		# machine can cause on its own, does not repeat.
		say "attempt $attempt: $((d1 - d0)) arp_unresolved drops; destinations that lost datagrams: $($PY -c '
import sys
w = [l.split() for l in open(sys.argv[1]) if l.startswith("neighbour ")]
print(" ".join("%s:%s" % (x[2], x[6]) for x in w if int(x[6]) < int(sys.argv[2])) or "(none short)")
' "$TMPD/recv.out" $((LIFE_MS / EACH_MS)) 2>/dev/null)"
		expect_status 200 GET /api/v1/ports/p1/stats
		say "p1 device: $(jq_body 'j["device"]'), tx_full $(jq_body 'j["drops"]["tx_full"]'); once more"
	else
		break
	fi
	base=10.2.192.0
done

read -r _ sent _ K < <(grep "^sent " "$TMPD/send.out")
[[ "$sent" =~ ^[0-9]+$ && "$K" =~ ^[0-9]+$ ]] || fail "the sender reported nothing usable: $(cat "$TMPD/send.out")"
read -r _ received _ < <(grep "^received " "$TMPD/recv.out")
[[ "$received" =~ ^[0-9]+$ ]] || fail "the receiver reported nothing usable: $(head -3 "$TMPD/recv.out")"
dropped=$((d1 - d0))

# Resolution latencies of the destinations started before and during the PUT.
read -r before_n before_max during_n during_max slow < <($PY -c '
import sys
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
b, d = [], []
for l in open(sys.argv[1]):
    w = l.split()
    if w[0] != "neighbour":
        continue
    at, ms = float(w[8]), float(w[4])
    if at < t0:
        b.append(ms)
    elif at <= t1:
        d.append((ms, w[2]))
d.sort()
print(len(b), "%.1f" % max(b, default=-1), len(d), "%.1f" % (d[-1][0] if d else -1),
      ",".join("%s:%.0fms" % (a, m) for m, a in d[-5:][::-1]) or "-")
' "$TMPD/recv.out" "$t0" "$t1")
say "train: $K destinations (a new one every $NEW_MS ms, one datagram every $EACH_MS ms for $LIFE_MS ms), $during_n of them started during the PUT"
say "datagrams: sent $sent, received $received, arp_unresolved drops on p0 during the train $dropped ($d0 -> $d1)"
say "first-datagram delay (resolution): before the PUT max $before_max ms over $before_n; during it max $during_max ms over $during_n (slowest: $slow)"

# The destinations as ixyd's neighbours: all of them, resolved to h2.
expect_status 200 GET /api/v1/neighbors
unresolved=$($PY -c '
import json, sys
j = json.load(open(sys.argv[1]))
a, b, c = sys.argv[2].split(".")[:3]
want = {"%s.%s.%d.%d" % (a, b, int(c) + i // 254, 1 + i % 254) for i in range(int(sys.argv[3]))}
ok = {e["ip"] for e in j["neighbors"] if e["state"] in ("reachable", "stale") and e["mac"] == sys.argv[4]}
print(len(want - ok), " ".join(sorted(want - ok)[:5]))
' "$TMPD/body" "$base" "$K" "$h2mac") || fail "cannot read GET /neighbors: $(head -c 300 "$TMPD/body")"
expect_status 200 GET "/api/v1/routes?limit=1"
[ "$(jq_body 'j["total"]')" = $((N + 2)) ] || fail "the table has $(jq_body 'j["total"]') routes, expected $((N + 2))"

[ "$during_n" -ge "$MIN_APPLY_NEW" ] || fail "only $during_n destinations started during the PUT: the train did not cover it"
[ "$dropped" = 0 ] ||
	fail "$dropped datagrams waiting for a fresh neighbour dropped as arp_unresolved during the replace (resolution waited up to $during_max ms)"
[ "${unresolved%% *}" = 0 ] || fail "${unresolved%% *} of $K destinations are not resolved neighbours: ${unresolved#* }"
[ "$received" = "$sent" ] || fail "h2 received $received of $sent datagrams"
$PY -c "import sys; sys.exit(0 if $during_max < $RESOLVE_BOUND_MS else 1)" ||
	fail "a fresh neighbour waited $during_max ms for resolution during the replace (bound $RESOLVE_BOUND_MS ms)"
ixyd_stop
pass "$during_n fresh neighbours resolved during a $N-route replace, slowest in $during_max ms, none dropped"
