#!/usr/bin/env bash
# Replay of the shared edge-case capture (mixed traffic: TCP, ARP, IGMP, MPLS, IPv6, truncated
# and odd frames) into ixyd with tcpreplay, three ways: as recorded into a routed port (mostly
# not for the router), rewritten to the router's MAC (so the unicast IPv4 frames are validated
# and routed by the default route towards h2), and as recorded into a bridge port (learnt and
# flooded). ixyd must survive all of it, count exactly the frames the kernel delivered to the
# routed port for it, keep forwarding and exit cleanly.
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

# tcpreplay's own count of what it sent ("Actual: N packets").
replay() { # ns, tcpreplay args...
	local ns=$1 out n
	shift
	out=$(nsx "$ns" "$@" 2>&1)
	n=$(echo "$out" | sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p')
	[ -n "$n" ] || { echo "$out" | tail -n 5 >&2; fail "tcpreplay in $ns sent nothing"; }
	echo "$n"
}
# Frames in a capture file (tcpdump prints some frames on several lines; each starts with its
# time stamp).
frames_in() { tcpdump -r "$1" -nn -tt 2>/dev/null | grep -c '^[0-9]\+\.[0-9]\+ '; }
# A counter of ixyd's, failing the test if there is no fresh one.
counter() { ixyd_counter "$1" "$2" || fail "cannot read ixyd's $1 $2"; }

n_frames=$(frames_in "$PCAP")
[ "$n_frames" -gt 0 ] || fail "tcpdump reads no frames from $PCAP"
say "the capture as recorded into p0"
n_sent=$(replay h1 tcpreplay --pps 2000 -i hv0 "$PCAP")
# Every replay must send the whole capture, or the checks below would cover only part of it.
[ "$n_sent" -eq "$n_frames" ] || fail "tcpreplay sent $n_sent of the capture's $n_frames frames"
kill -0 "$IXYD_PID" 2>/dev/null || fail "ixyd died during the first replay"

say "the same, rewritten to the router's MAC $router_mac"
# tcpreplay-edit does not put the router's MAC on every frame (4.4 derives group MACs from some
# IPv4 and IPv6 frames and leaves a few MPLS frames as they were), so the reference for what
# the router must receive is what the kernel delivered to p0 addressed to the router's MAC or to
# a group (broadcast included), captured beside ixyd. These, and only these, pass the socket
# filter of a routed af_packet port (frames for other hosts do not), and ixyd counts every frame
# it receives in rx_packets, whatever it does with it afterwards.
# Not through nsx: $! must be tcpdump itself (ip netns exec execs it), and SIGTERM, not SIGINT,
# which background commands of a script ignore.
ip netns exec "$(nsname r)" tcpdump -p -U -Q in -i p0 -w "$TMPD/p0.pcap" \
	"ether dst $router_mac or ether multicast" 2>"$TMPD/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 100); do
	grep -q 'listening on' "$TMPD/tcpdump.err" && break
	kill -0 "$tcpdump_pid" 2>/dev/null || fail "tcpdump on p0 exited: $(cat "$TMPD/tcpdump.err")"
	sleep 0.1
done
grep -q 'listening on' "$TMPD/tcpdump.err" || fail "tcpdump on p0 did not start within 10 s"
rx_p0_before=$(counter p0 rx_packets)
n_edit=$(replay h1 tcpreplay-edit --pps 2000 --enet-dmac="$router_mac" -i hv0 "$PCAP")
[ "$n_edit" -eq "$n_frames" ] || fail "tcpreplay-edit sent $n_edit of the capture's $n_frames frames"
kill -0 "$IXYD_PID" 2>/dev/null || fail "ixyd died during the rewritten replay"
# Let tcpdump and ixyd take in the last frames (generous: the machine may be busy; the port's
# ring holds thousands of frames, so ixyd loses none by being late), then close the capture.
sleep 2
kill -TERM "$tcpdump_pid"
wait "$tcpdump_pid"
n_to_router=$(frames_in "$TMPD/p0.pcap")
say "tcpreplay-edit sent $n_edit frames, $n_to_router of them to the router's MAC or a group"
# Up to 20 s more for ixyd to count them, then exactly those, no more, no fewer.
for _ in $(seq 40); do
	rx_p0_edit=$(( $(counter p0 rx_packets) - rx_p0_before ))
	[ "$rx_p0_edit" -ge "$n_to_router" ] && break
	sleep 0.5
done
[ "$rx_p0_edit" -eq "$n_to_router" ] ||
	fail "p0 received $rx_p0_edit frames; the kernel delivered $n_to_router for the router"

say "as recorded into bridge port q1"
n_br=$(replay b1 tcpreplay --pps 2000 -i hv0 "$PCAP")
[ "$n_br" -eq "$n_frames" ] || fail "tcpreplay sent $n_br of the capture's $n_frames frames into q1"
kill -0 "$IXYD_PID" 2>/dev/null || fail "ixyd died during the bridge replay"
sleep 2

rx_q1=$(counter q1 rx_packets)
tx_q2=$(counter q2 tx_packets)
tx_p1=$(counter p1 tx_packets)
say "counters: p1 tx_packets=$tx_p1, q1 rx_packets=$rx_q1, q2 tx_packets=$tx_q2"
grep '^counters port=' "$IXYD_OUT" | tail -n 4
# Every frame into the (promiscuous) bridge port arrived and was counted; IPv4 among the
# rewritten frames went out by the default route; the bridge flooded what it had not learnt
# (unicast between two stations both behind q1 stays filtered).
[ "$rx_q1" -ge "$n_br" ] || fail "q1 received $rx_q1 of $n_br frames"
[ "$tx_p1" -ge 50 ] || fail "only $tx_p1 replayed frames were routed to p1"
[ "$tx_q2" -ge 1 ] || fail "the bridge flooded nothing to q2"
nsx h1 ping -c 3 -i 0.2 -W 2 10.2.0.2 >/dev/null || fail "no forwarding after the replays"
ixyd_stop
pass "ixyd survived the edge-case capture and still forwards"
