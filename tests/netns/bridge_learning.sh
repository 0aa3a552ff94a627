#!/usr/bin/env bash
# Bridging: three hosts on bridge br0 (ports q1, q2, q3) plus a routed port p0 to h1, with two
# workers (the ports' queues are spread over them, so both learn into the one MAC table).
#   1. hosts ping each other (ARP broadcasts are flooded, unicast is learnt)
#   2. after learning, b3 no longer sees unicast between b1 and b2: its interface receives
#      (almost) nothing while b1 pings b2 100 times
#   3. the bridge's own address answers, and h1 reaches a bridge host through the router
. "$(dirname "$0")/lib.sh"
netns_init bridge_learning
netns_add r
netns_add h1
for i in 1 2 3; do
	netns_add b$i
	netns_link b$i hv0 r q$i
	netns_host b$i hv0 10.3.0.1$i/24 10.3.0.1
done
netns_link h1 hv0 r p0
netns_host h1 hv0 10.1.0.2/24 10.1.0.1
CORES="[0, 1]"
[ "$(nproc)" -ge 2 ] || CORES="[0]"
cat >"$TMPD/bridge.json" <<-EOF2
{"ports": [{"name": "p0", "device": "af_packet:p0", "ipv4": ["10.1.0.1/24"]},
           {"name": "q1", "device": "af_packet:q1"},
           {"name": "q2", "device": "af_packet:q2"},
           {"name": "q3", "device": "af_packet:q3"}],
 "bridges": [{"name": "br0", "ports": ["q1", "q2", "q3"], "ipv4": ["10.3.0.1/24"]}],
 "workers": {"cores": $CORES}}
EOF2
ixyd_start r "$TMPD/bridge.json"

say "every host pings every other (flooding, then learning)"
for a in 1 2 3; do
	for b in 1 2 3; do
		[ "$a" = "$b" ] && continue
		nsx b$a ping -c 2 -i 0.2 -W 2 10.3.0.1$b >/dev/null ||
			fail "b$a cannot ping b$b (10.3.0.1$b) across the bridge"
	done
done

say "b1 -> b2 unicast, watching b3"
rx_before=$(nsx b3 cat /sys/class/net/hv0/statistics/rx_packets)
nsx b1 ping -c 100 -i 0.01 -W 2 -q 10.3.0.12 || fail "b1 -> b2 pings lost"
rx_after=$(nsx b3 cat /sys/class/net/hv0/statistics/rx_packets)
seen=$((rx_after - rx_before))
say "b3 received $seen frames while b1 and b2 exchanged 200"
# A stray broadcast (ARP refresh) may pass; 200 frames of unicast must not.
[ "$seen" -le 5 ] || fail "b3 saw $seen frames: unicast between b1 and b2 is still flooded"

say "the bridge's address, and routing into the bridge"
nsx b3 ping -c 2 -i 0.2 -W 2 10.3.0.1 || fail "b3 cannot ping the bridge address 10.3.0.1"
nsx h1 ping -c 3 -i 0.2 -W 2 10.3.0.12 || fail "h1 cannot reach b2 (10.3.0.12) through the router"
ixyd_stop
pass "the bridge learns, forwards unicast to one port, floods broadcast, routes into the bridge"
