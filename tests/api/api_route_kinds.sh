#!/usr/bin/env bash
# Every kind of route, owners and ECMP, end to end between kernel hosts:
#   h1 (10.1.0.2) -- p0 [ixyd in r] p1 -- h2 (10.2.0.2)
#                                   p2 -- h3 (10.3.0.2)
# The configuration routes 10.50.0.0/16 via h2 (owner config). Through the API:
#   - ECMP 10.8.0.0/16 via h2 and h3 (both have 10.8.0.5): 64 UDP flows from h1 spread over
#     both hosts, each flow arriving whole at one of them (RFC 2992: per-flow hashing);
#   - an API route for the config's prefix (precedence 5) is listed but not selected, and a PUT
#     of the API's routes leaves the config's route and its traffic alone;
#   - blackhole: h1's pings vanish without an answer, counted as blackhole drops;
#   - unreachable: h1's kernel reports "Destination Host Unreachable" (ICMP 3/1), counted;
#   - local: pings to any address of the prefix are answered by ixyd itself;
#   - on-link (iface, no gateway): ixyd ARPs for the destination on p2 from 10.3.0.1 and h3,
#     which holds 10.70.0.0/16 as local, answers; pings go through;
#   - punt: dropped as no_host (no host interface takes it yet).
. "$(dirname "$0")/api_lib.sh"
netns_init api_route_kinds
netns_add r
netns_add h1
netns_add h2
netns_add h3
netns_link h1 hv0 r p0
netns_link h2 hv0 r p1
netns_link h3 hv0 r p2
netns_host h1 hv0 10.1.0.2/24 10.1.0.1
netns_host h2 hv0 10.2.0.2/24 10.2.0.1
netns_host h3 hv0 10.3.0.2/24 10.3.0.1
for h in h2 h3; do
	nsx $h ip addr add 10.8.0.5/32 dev lo
	nsx $h ip addr add 10.50.0.5/32 dev lo
	nsx $h sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.hv0.rp_filter=0
done
# h3 takes the whole of 10.70.0.0/16 as its own: it answers ARP and pings for any address in it.
nsx h3 ip route add local 10.70.0.0/16 dev lo
cat >"$TMPD/api.json" <<EOF
{"ports": [{"name": "p0", "device": "af_packet:p0", "ipv4": ["10.1.0.1/24"]},
           {"name": "p1", "device": "af_packet:p1", "ipv4": ["10.2.0.1/24"]},
           {"name": "p2", "device": "af_packet:p2", "ipv4": ["10.3.0.1/24"]}],
 "routes": [{"prefix": "10.50.0.0/16", "via": "10.2.0.2"}],
 "workers": {"cores": [0]},
 "api": {"listen": "127.0.0.1:8080"}}
EOF
command -v curl >/dev/null || skip "curl missing"
ixyd_start r "$TMPD/api.json"
ixyd_wait_api

drops() { # REASON: p0's drop counter for it
	expect_status 200 GET /api/v1/ports/p0/stats
	jq_body "j['drops']['$1']"
}

# UDP flows from h1 to DST, one datagram per source port in 20000..20000+FLOWS-1, REPEAT
# rounds; receivers on h2 and h3 print "port count" per source port seen.
flows() { # DST FLOWS REPEAT
	local dst=$1 n=$2 rep=$3 h pids=()
	for h in h2 h3; do
		nsx $h $PY -c '
import socket, sys, collections
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5001))
s.settimeout(2.0)
seen = collections.Counter()
try:
    while True:
        _, (ip, port) = s.recvfrom(2048)
        seen[port] += 1
except socket.timeout:
    pass
for p, c in sorted(seen.items()):
    print(p, c)
' >"$TMPD/flows.$h" &
		pids+=($!)
	done
	sleep 0.5
	nsx h1 $PY -c '
import socket, sys, time
dst, n, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.1.0.2", 20000 + i))
    socks.append(s)
for r in range(rep):
    for s in socks:
        s.sendto(b"x" * 32, (dst, 5001))
    time.sleep(0.02)
' "$dst" "$n" "$rep"
	wait "${pids[@]}" # the receivers only (ixyd is a child too)
}

say "ECMP over h2 and h3: 64 flows, each whole at one host, both hosts used"
expect_status 201 POST /api/v1/routes --json \
	'{"prefix": "10.8.0.0/16", "nexthops": [{"via": "10.2.0.2"}, {"via": "10.3.0.2", "iface": "p2"}]}'
expect_status 200 GET /api/v1/routes/10.8.0.0_16
[ "$(jq_body 'j["type"], [(n["via"], n["iface"]) for n in j["nexthops"]]')" = \
	"('unicast', [('10.2.0.2', 'p1'), ('10.3.0.2', 'p2')])" ] || fail "ECMP route: $(cat "$TMPD/body")"
# Resolve both gateways first (the first datagrams of a flow would wait for ARP otherwise).
nsx h2 ping -c 1 -W 2 10.2.0.1 >/dev/null || fail "h2 cannot reach the router"
nsx h3 ping -c 1 -W 2 10.3.0.1 >/dev/null || fail "h3 cannot reach the router"
flows 10.8.0.5 64 5
$PY - "$TMPD/flows.h2" "$TMPD/flows.h3" <<'PYEOF' || fail "ECMP spread: $(cat "$TMPD/flows.h2" "$TMPD/flows.h3" | tr '\n' ' ')"
import sys
a = dict(map(int, l.split()) for l in open(sys.argv[1]) if l.strip())
b = dict(map(int, l.split()) for l in open(sys.argv[2]) if l.strip())
both = set(a) & set(b)
print("[api_route_kinds] flows at h2: %d, at h3: %d, split between them: %d" % (len(a), len(b), len(both)))
assert not both, "flows split over both next hops"
assert len(a) + len(b) == 64, "flows missing"
assert all(c == 5 for c in list(a.values()) + list(b.values())), "datagrams missing"
assert len(a) >= 12 and len(b) >= 12, "one next hop carries almost nothing"
PYEOF
# The API's lookup agrees that different flow hashes take different next hops.
seen=""
for hsh in 0 1073741824 2147483648 3221225472; do
	expect_status 200 GET "/api/v1/fib?dst=10.8.0.5&hash=$hsh"
	seen="$seen $(jq_body 'j["nexthop"]["ip"]')"
done
echo "$seen" | grep -q 10.2.0.2 && echo "$seen" | grep -q 10.3.0.2 || fail "fib by hash names one next hop only:$seen"

say "owners: the config's route wins over the API's (precedence 1 < 5); a PUT leaves it alone"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.50.0.0/16", "via": "10.3.0.2", "precedence": 5}'
expect_status 200 GET /api/v1/routes/10.50.0.0_16
[ "$(jq_body 'j["owner"], j["via"], j["selected"], [(a["owner"], a["via"], a["precedence"], a["selected"]) for a in j["alternatives"]]')" = \
	"('config', '10.2.0.2', True, [('api', '10.3.0.2', 5, False)])" ] || fail "owners of 10.50/16: $(cat "$TMPD/body")"
flows 10.50.0.5 8 2
[ "$(wc -l <"$TMPD/flows.h2")" = 8 ] && [ ! -s "$TMPD/flows.h3" ] || fail "10.50/16 did not go to h2 only"
expect_status 200 PUT /api/v1/routes --json '[]'
expect_status 200 GET /api/v1/routes/10.50.0.0_16
[ "$(jq_body 'j["owner"], "alternatives" in j')" = "('config', False)" ] || fail "after PUT []: $(cat "$TMPD/body")"
expect_status 404 GET /api/v1/routes/10.8.0.0_16
expect_status 200 GET "/api/v1/routes?owner=config"
[ "$(jq_body '[r["prefix"] for r in j["routes"]]')" = "['10.50.0.0/16']" ] || fail "owner=config: $(cat "$TMPD/body")"
flows 10.50.0.5 8 2
[ "$(wc -l <"$TMPD/flows.h2")" = 8 ] || fail "the config's route stopped carrying traffic after PUT []"

say "blackhole: no answer, counted"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.60.0.0/16", "type": "blackhole"}'
before=$(drops blackhole)
out=$(nsx h1 ping -c 3 -i 0.2 -W 1 10.60.0.1 2>&1) && fail "pings through a blackhole were answered: $out"
echo "$out" | grep -q "Unreachable" && fail "a blackhole answered: $out"
[ "$(drops blackhole)" = $((before + 3)) ] || fail "blackhole drops: $before -> $(drops blackhole), expected +3"

say "unreachable: Destination Host Unreachable, counted"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.61.0.0/16", "type": "unreachable"}'
before=$(drops unreachable)
out=$(nsx h1 ping -c 1 -W 2 10.61.0.1 2>&1)
echo "$out" | grep -q "Destination Host Unreachable" || fail "expected Destination Host Unreachable, got: $out"
[ "$(drops unreachable)" = $((before + 1)) ] || fail "unreachable drops: expected +1"

say "local: ixyd answers pings to any address of the prefix"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.62.0.0/24", "type": "local"}'
out=$(nsx h1 ping -c 2 -i 0.2 -W 2 10.62.0.7 2>&1) || fail "no echo reply from a local route: $out"
echo "$out" | grep -q "from 10.62.0.7" || fail "the reply came from elsewhere: $out"

say "on-link via p2: ixyd resolves the destination itself, h3 answers"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.70.0.0/16", "iface": "p2"}'
out=$(nsx h1 ping -c 2 -i 0.2 -W 2 10.70.0.9 2>&1) || fail "no reply through the on-link route: $out"
expect_status 200 GET /api/v1/neighbors
[ "$(jq_body '[(n["iface"], n["state"]) for n in j["neighbors"] if n["ip"] == "10.70.0.9"]')" = "[('p2', 'reachable')]" ] ||
	fail "10.70.0.9 not resolved on p2: $(cat "$TMPD/body")"

say "punt: for the host, which has no interface yet: counted as no_host"
expect_status 201 POST /api/v1/routes --json '{"prefix": "10.63.0.0/16", "type": "punt"}'
before=$(drops no_host)
nsx h1 ping -c 2 -i 0.2 -W 1 10.63.0.1 >/dev/null 2>&1 && fail "a punted ping was answered"
[ "$(drops no_host)" = $((before + 2)) ] || fail "no_host drops: expected +2"

expect_status 200 GET "/api/v1/routes?limit=100"
say "routes: $(jq_body '" ".join("%s:%s/%s" % (r["prefix"], r["owner"], r["type"]) for r in j["routes"])')"
pass "every route kind, owners and ECMP behave as documented"
