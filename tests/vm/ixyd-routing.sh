#!/bin/bash
# vm_ixyd_routing: ixyd in the guest routes between two host namespaces over the virtio-net
# devices, one subnet per port:
#
#   ns h1 10.99.1.2/24 --tap-- p0 0000:00:04.0 10.99.1.1/24 | ixyd | p1 0000:00:05.0 10.99.2.1/24 --tap-- ns h2 10.99.2.2/24
#
# Each host has ixyd as its default gateway. Asserted, with the host kernels as the independent
# judge: each host pings the router's own address and gets every reply; ARP for the router
# resolves to the guest port's MAC (ixyd answered it), and ixyd resolves the far host by its own
# ARP request from its port's MAC; h1 and h2 ping each other across the router and every reply
# shows ttl=63 (sent with 64, decremented once by ixyd) while neither host learns the other's
# MAC (routed, not bridged); TTL 1 earns Time Exceeded and an unrouted destination Destination
# Net Unreachable, both from the router's address on the sender's side; ixyd counts those two
# drops and its own ARP request (SIGUSR1 block); its final per-port rx/tx packets and bytes
# equal the taps' counter deltas (tap tx = port rx, tap rx = port tx).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# The hosts' addresses (vm_boot gives them /24s) and the router's, one subnet per side.
VM_IP1=10.99.1.2
VM_IP2=10.99.2.2
R1=10.99.1.1
R2=10.99.2.1
UNROUTED=10.77.0.1
vm_init "$@"
vm_require_bins ixyd

vm_boot "$VM_SRC_DIR/guest/ixyd-routing.sh"
ip -n "$VM_NS_H1" route add default via $R1
ip -n "$VM_NS_H2" route add default via $R2
read -r -a base1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a base2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
vm_ixyd_start ixyd

# neigh_is NS IP MAC: the host's neighbour entry for IP has lladdr MAC.
neigh_is() {
	local entry
	entry=$(ip -n "$1" neigh show "$2")
	[[ "$entry" == *"lladdr $3 "* ]] || vm_fail "ARP in $1: '$entry', expected $2 at $3"
	vm_log "ok: $1 resolved $2 to $3"
}

# ping_across NS DEST: every reply shows ttl=63 (the far host sends 64, ixyd takes one off).
ping_across() {
	local out n_reply n_63
	out=$(vm_ping_ok "$1" "$2" 5)
	grep ' bytes from ' <<<"$out" | head -n 1
	n_reply=$(grep -c ' bytes from ' <<<"$out") || true
	n_63=$(grep -c ' bytes from .* ttl=63 ' <<<"$out") || true
	vm_check_eq "replies to $1 from $2 with ttl=63 (64 less one hop)" "$n_63/$n_reply" 5/5
}

# 1. h1 pings the router's address; h1's ARP request is answered by ixyd with p0's MAC.
vm_ping_ok "$VM_NS_H1" $R1 3 >/dev/null
neigh_is "$VM_NS_H1" $R1 $VM_MAC_A
# 2. h1 pings h2 across the router before h2 has said a word: ixyd must resolve 10.99.2.2 by
# its own ARP request from 10.99.2.1 with p1's MAC (h2's kernel learns the router from it).
# One echo request first, alone: ixyd holds exactly that one while it resolves (a second one
# 0.2 s later could be held too when the guest is slow, and the count below would depend on
# the machine's speed).
vm_ping_ok "$VM_NS_H1" $VM_IP2 1 >/dev/null
ping_across "$VM_NS_H1" $VM_IP2
neigh_is "$VM_NS_H2" $R2 $VM_MAC_B
# 3. The other way, and h2 to the router's address on its side.
ping_across "$VM_NS_H2" $VM_IP1
vm_ping_ok "$VM_NS_H2" $R2 3 >/dev/null
vm_log "ok: both hosts ping the router's address on their side"
for ns_ip in "$VM_NS_H1 $R1" "$VM_NS_H2 $R2"; do
	read -r ns gw <<<"$ns_ip"
	vm_check_eq "$ns neighbours (only the router, not the far host)" \
		"$(ip -n "$ns" neigh show | awk '{ print $1 }' | sort | tr '\n' ' ')" "$gw "
done

# 4. ICMP errors from the router's address on the sender's side (RFC 1812 4.3.2.4).
out=$(ip netns exec "$VM_NS_H1" ping -n -c 1 -t 1 -W 3 $VM_IP2 2>&1) || true
echo "$out" | sed -n 2p
grep -q "^From $R1 .*Time to live exceeded" <<<"$out" ||
	vm_fail "no Time Exceeded from $R1 for a TTL 1 ping to $VM_IP2: $out"
out=$(ip netns exec "$VM_NS_H1" ping -n -c 1 -W 3 $UNROUTED 2>&1) || true
echo "$out" | sed -n 2p
grep -q "^From $R1 .*Destination Net Unreachable" <<<"$out" ||
	vm_fail "no Destination Net Unreachable from $R1 for $UNROUTED: $out"
vm_log "ok: Time Exceeded and Destination Net Unreachable from $R1"

vm_ixyd_counters ixyd
vm_check_eq "p0 drop_ttl_expired (the TTL 1 ping)" "$(vm_ixyd_counter ixyd port=p0 drop_ttl_expired)" 1
vm_check_eq "p0 drop_no_route (the ping to $UNROUTED)" "$(vm_ixyd_counter ixyd port=p0 drop_no_route)" 1
vm_check_eq "p1 drop_ttl_expired" "$(vm_ixyd_counter ixyd port=p1 drop_ttl_expired)" 0
vm_check_eq "p1 drop_no_route" "$(vm_ixyd_counter ixyd port=p1 drop_no_route)" 0
# The control thread sent the ARP request for 10.99.2.2 and then the echo request it held.
vm_check_eq "control thread tx_packets (one ARP request, one held packet)" \
	"$(vm_ixyd_counter ixyd control=0 tx_packets)" 2

# 5. The final counters against the taps. Snapshot once the host has been quiet, then stop ixyd;
# the taps must not move until it exited, or the snapshot is not what ixyd saw.
# A host whose neighbour entry for the router is in DELAY or PROBE is about to send a unicast
# ARP probe (h2 learnt the router from ixyd's request and has not confirmed it since): wait
# until both entries have settled.
for ns_ip in "$VM_NS_H1 $R1" "$VM_NS_H2 $R2"; do
	read -r ns gw <<<"$ns_ip"
	for ((i = 0; i < 150; i++)); do
		state=$(ip -n "$ns" neigh show "$gw" | awk '{ print $NF }')
		[[ $state == REACHABLE || $state == STALE ]] && break
		sleep 0.1
	done
	vm_log "$ns: router $gw is $state"
done
sleep 1
read -r -a snap1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a snap2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
vm_ixyd_stop ixyd
read -r -a end1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
read -r -a end2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
vm_check_eq "$VM_TAP1 counters unchanged until ixyd exited" "${end1[*]}" "${snap1[*]}"
vm_check_eq "$VM_TAP2 counters unchanged until ixyd exited" "${end2[*]}" "${snap2[*]}"
vm_section ixyd | grep '^counters ' | tail -n 5
# counters: rx_packets rx_bytes tx_packets tx_bytes tx_dropped (indexes 0..4), as deltas.
d() { echo $(($1 - $2)); }
vm_check_eq "$VM_TAP1 tx_dropped (host frames the guest never took)" "$(d "${snap1[4]}" "${base1[4]}")" 0
vm_check_eq "$VM_TAP2 tx_dropped (host frames the guest never took)" "$(d "${snap2[4]}" "${base2[4]}")" 0
for port in p0 p1; do
	if [[ $port == p0 ]]; then
		tap=$VM_TAP1 b=("${base1[@]}") s=("${snap1[@]}")
	else
		tap=$VM_TAP2 b=("${base2[@]}") s=("${snap2[@]}")
	fi
	vm_check_eq "$port rx_packets vs $tap tx_packets" "$(vm_ixyd_counter ixyd port=$port rx_packets)" "$(d "${s[2]}" "${b[2]}")"
	vm_check_eq "$port rx_bytes vs $tap tx_bytes" "$(vm_ixyd_counter ixyd port=$port rx_bytes)" "$(d "${s[3]}" "${b[3]}")"
	vm_check_eq "$port tx_packets vs $tap rx_packets" "$(vm_ixyd_counter ixyd port=$port tx_packets)" "$(d "${s[0]}" "${b[0]}")"
	vm_check_eq "$port tx_bytes vs $tap rx_bytes" "$(vm_ixyd_counter ixyd port=$port tx_bytes)" "$(d "${s[1]}" "${b[1]}")"
done
vm_finish
echo PASS
