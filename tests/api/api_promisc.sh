#!/usr/bin/env bash
# Promiscuous mode toggled through the API changes what the port receives: h1 sends frames to a
# MAC that is not the router's (a permanent neighbour entry for 10.1.0.77). With promisc off p0
# does not receive them (af_packet's host filter); PATCH {"promisc": true} and p0 receives every
# one of them (and drops them as not_for_us: a routed port); PATCH false and they stop again.
. "$(dirname "$0")/api_lib.sh"
netns_init api_promisc
api_setup
ixyd_start r "$TMPD/api.json"
ixyd_wait_api
nsx h1 ip neigh replace 10.1.0.77 lladdr 02:00:00:00:77:77 dev hv0 nud permanent
N=40

counters() { # rx_packets not_for_us of p0
	expect_status 200 GET /api/v1/ports/p0/stats
	jq_body '"%d %d" % (j["rx_packets"], j["drops"]["not_for_us"])'
}
blast() { nsx h1 ping -c "$N" -i 0.02 -W 1 10.1.0.77 >/dev/null 2>&1; sleep 0.3; }

promisc_is() {
	expect_status 200 GET /api/v1/ports/p0
	[ "$(jq_body 'j["promisc"]')" = "$1" ] || fail "GET /ports/p0 promisc is not $1: $(cat "$TMPD/body")"
}

promisc_is False
read -r rx0 nfu0 < <(counters)
blast
read -r rx1 nfu1 < <(counters)
say "promisc off: p0 rx +$((rx1 - rx0)) for $N foreign frames"
[ $((rx1 - rx0)) -lt 5 ] || fail "p0 received $((rx1 - rx0)) frames to a foreign MAC with promiscuous mode off"

expect_status 200 PATCH /api/v1/ports/p0 --json '{"promisc": true}'
[ "$(jq_body 'j["promisc"]')" = True ] || fail "PATCH answer: $(cat "$TMPD/body")"
promisc_is True
blast
read -r rx2 nfu2 < <(counters)
say "promisc on: p0 rx +$((rx2 - rx1)), not_for_us +$((nfu2 - nfu1))"
[ $((rx2 - rx1)) -ge "$N" ] || fail "p0 received only $((rx2 - rx1)) of $N foreign frames with promiscuous mode on"
[ $((nfu2 - nfu1)) -ge "$N" ] || fail "only $((nfu2 - nfu1)) foreign frames were counted as not_for_us"

expect_status 200 PATCH /api/v1/ports/p0 --json '{"promisc": false}'
promisc_is False
blast
read -r rx3 _ < <(counters)
say "promisc off again: p0 rx +$((rx3 - rx2))"
[ $((rx3 - rx2)) -lt 5 ] || fail "p0 still received $((rx3 - rx2)) foreign frames after promiscuous mode went off"

expect_status 400 PATCH /api/v1/ports/p0 --json '{"promisc": "yes"}'
expect_status 400 PATCH /api/v1/ports/p0 --json '{"promiscuous": true}'
expect_status 404 PATCH /api/v1/ports/p9 --json '{"promisc": true}'
ixyd_stop
pass "promiscuous mode set through the API decides whether foreign frames reach the port"
