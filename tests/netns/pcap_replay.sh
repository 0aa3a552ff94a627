#!/usr/bin/env bash
# Replay of the shared edge-case capture (mixed traffic: TCP, ARP, IGMP, MPLS, IPv6, truncated
# and odd frames) into ixyd with tcpreplay, three ways: as recorded into a routed port (mostly
# not for the router), rewritten to the router's MAC (so every IPv4 frame is validated and routed
# by the default route towards h2), and as recorded into a bridge port (learnt and flooded).
# ixyd must survive all of it, count what it received, keep forwarding and exit cleanly.
# Usage: pcap_replay.sh PCAP (exit 77 when PCAP is absent)
. "$(dirname "$0")/lib.sh"
PCAP=${1:-}
netns_init pcap_replay
[ -n "$PCAP" ] && [ -r "$PCAP" ] || skip "capture ${PCAP:-(none given)} not found"
command -v tcpreplay >/dev/null && command -v tcpreplay-edit >/dev/null || skip "tcpreplay missing"

routed_setup
netns_add b1
netns_add b2
netns_link b1 hv0 r q1
netns_link b2 hv0 r q2
cat >"$TMPD/replay.json" <<-EOF2
{"ports": [{"name": "p0", "device": "af_packet:p0", "ipv4": ["10.1.0.1/24"]},
           {"name": "p1", "device": "af_packet:p1", "ipv4": ["10.2.0.1/24"]},
           {"name": "q1", "device": "af_packet:q1"}, {"name": "q2", "device": "af_packet:q2"}],
 "bridges": [{"name": "br0", "ports": ["q1", "q2"], "ipv4": ["10.3.0.1/24"]}],
 "routes": [{"prefix": "0.0.0.0/0", "via": "10.2.0.2"}],
 "workers": {"cores": [0]}}
EOF2
ixyd_start r "$TMPD/replay.json"
nsx h1 ping -c 1 -W 2 10.2.0.2 >/dev/null || fail "no forwarding to begin with"
router_mac=$(nsx r cat /sys/class/net/p0/address)

# tcpreplay's own count of what it sent ("Actual: N packets"), the reference for what arrived.
replay() { # ns, tcpreplay args...
	local ns=$1 out n
	shift
	out=$(nsx "$ns" "$@" 2>&1)
	n=$(echo "$out" | sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p')
	[ -n "$n" ] || { echo "$out" | tail -n 5 >&2; fail "tcpreplay in $ns sent nothing"; }
	echo "$n"
}
say "the capture as recorded into p0"
n_sent=$(replay h1 tcpreplay --pps 2000 -i hv0 "$PCAP")
say "tcpreplay sent $n_sent frames"
kill -0 "$IXYD_PID" 2>/dev/null || fail "ixyd died during the first replay"
say "the same, rewritten to the router's MAC $router_mac"
rx_p0_before=$(ixyd_counter p0 rx_packets)
n_edit=$(replay h1 tcpreplay-edit --pps 2000 --enet-dmac="$router_mac" -i hv0 "$PCAP")
kill -0 "$IXYD_PID" 2>/dev/null || fail "ixyd died during the rewritten replay"
say "as recorded into bridge port q1"
n_br=$(replay b1 tcpreplay --pps 2000 -i hv0 "$PCAP")
kill -0 "$IXYD_PID" 2>/dev/null || fail "ixyd died during the bridge replay"
sleep 0.5

rx_p0=$(ixyd_counter p0 rx_packets)
rx_q1=$(ixyd_counter q1 rx_packets)
tx_q2=$(ixyd_counter q2 tx_packets)
tx_p1=$(ixyd_counter p1 tx_packets)
say "counters: p0 rx_packets=$rx_p0, p1 tx_packets=$tx_p1, q1 rx_packets=$rx_q1, q2 tx_packets=$tx_q2"
grep '^counters port=' "$IXYD_OUT" | tail -n 4
# Every frame sent to the router's MAC and every frame into the (promiscuous) bridge port
# arrived and was counted; IPv4 among them went out by the default route; the bridge flooded
# what it had not learnt (unicast between two stations both behind q1 stays filtered).
# (tcpreplay-edit leaves multicast destinations alone, about 10 of the capture's frames, and a
# routed port does not take multicast it has not joined.)
[ $((rx_p0 - rx_p0_before)) -ge $((n_edit * 9 / 10)) ] ||
	fail "p0 received $((rx_p0 - rx_p0_before)) of the $n_edit frames sent to the router"
[ "${rx_q1:-0}" -ge "$n_br" ] || fail "q1 received ${rx_q1:-0} of $n_br frames"
[ "${tx_p1:-0}" -ge 50 ] || fail "only ${tx_p1:-0} replayed frames were routed to p1"
[ "${tx_q2:-0}" -ge 1 ] || fail "the bridge flooded nothing to q2"
nsx h1 ping -c 3 -i 0.2 -W 2 10.2.0.2 >/dev/null || fail "no forwarding after the replays"
ixyd_stop
pass "ixyd survived the edge-case capture and still forwards"
