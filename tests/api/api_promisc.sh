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

counters() { # VAR: set VAR_rx and VAR_nfu to rx_packets and not_for_us of p0 (fails unless numbers)
	local c rx nfu
	expect_status 200 GET /api/v1/ports/p0/stats
	c=$(jq_body '"%d %d" % (j["rx_packets"], j["drops"]["not_for_us"])') ||
		fail "no rx_packets / drops.not_for_us in the stats of p0: $(head -c 300 "$TMPD/body")"
	read -r rx nfu <<<"$c"
	[[ "$rx" =~ ^[0-9]+$ && "$nfu" =~ ^[0-9]+$ ]] || fail "p0 counters are not numbers: \"$c\""
	printf -v "$1_rx" %s "$rx"
	printf -v "$1_nfu" %s "$nfu"
}
blast() { # N frames from h1 to the foreign MAC; fails unless h1's hv0 really sent them
	local tx0 tx1
	tx0=$(nsx h1 cat /sys/class/net/hv0/statistics/tx_packets)
	nsx h1 ping -c "$N" -i 0.02 -W 1 10.1.0.77 >/dev/null 2>&1
	sleep 0.3
	tx1=$(nsx h1 cat /sys/class/net/hv0/statistics/tx_packets)
	[[ "$tx0" =~ ^[0-9]+$ && "$tx1" =~ ^[0-9]+$ ]] && [ $((tx1 - tx0)) -ge "$N" ] ||
		fail "h1 did not send the $N foreign frames (hv0 tx_packets $tx0 -> $tx1)"
}

promisc_is() {
	expect_status 200 GET /api/v1/ports/p0
	[ "$(jq_body 'j["promisc"]')" = "$1" ] || fail "GET /ports/p0 promisc is not $1: $(cat "$TMPD/body")"
}

promisc_is False
counters c0
blast
counters c1
say "promisc off: p0 rx +$((c1_rx - c0_rx)) for $N foreign frames"
[ $((c1_rx - c0_rx)) -lt 5 ] || fail "p0 received $((c1_rx - c0_rx)) frames to a foreign MAC with promiscuous mode off"

expect_status 200 PATCH /api/v1/ports/p0 --json '{"promisc": true}'
[ "$(jq_body 'j["promisc"]')" = True ] || fail "PATCH answer: $(cat "$TMPD/body")"
promisc_is True
blast
counters c2
say "promisc on: p0 rx +$((c2_rx - c1_rx)), not_for_us +$((c2_nfu - c1_nfu))"
[ $((c2_rx - c1_rx)) -ge "$N" ] || fail "p0 received only $((c2_rx - c1_rx)) of $N foreign frames with promiscuous mode on"
[ $((c2_nfu - c1_nfu)) -ge "$N" ] || fail "only $((c2_nfu - c1_nfu)) foreign frames were counted as not_for_us"

expect_status 200 PATCH /api/v1/ports/p0 --json '{"promisc": false}'
promisc_is False
blast
counters c3
say "promisc off again: p0 rx +$((c3_rx - c2_rx))"
[ $((c3_rx - c2_rx)) -lt 5 ] || fail "p0 still received $((c3_rx - c2_rx)) foreign frames after promiscuous mode went off"

expect_status 400 PATCH /api/v1/ports/p0 --json '{"promisc": "yes"}'
expect_status 400 PATCH /api/v1/ports/p0 --json '{"promiscuous": true}'
expect_status 404 PATCH /api/v1/ports/p9 --json '{"promisc": true}'
ixyd_stop
pass "promiscuous mode set through the API decides whether foreign frames reach the port"
