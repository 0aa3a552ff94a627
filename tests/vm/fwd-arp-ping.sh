#!/bin/bash
# vm_fwd_arp_ping: ixy-fwd in the guest joins the two host namespaces into one Ethernet segment.
# With empty neighbour tables, each side pings the other: ARP must resolve to the other tap's
# MAC (the broadcast request and the unicast reply both crossed the forwarder) and every echo
# request must be answered.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd

vm_boot "$VM_SRC_DIR/guest/fwd.sh"
mac1=$(vm_mac "$VM_NS_H1" $VM_TAP1)
mac2=$(vm_mac "$VM_NS_H2" $VM_TAP2)
vm_fwd_start fwd

# ping_across FROM_NS TO_IP TO_MAC
ping_across() {
	local ns=$1 ip=$2 mac=$3 out neigh
	ip -n "$ns" neigh flush all
	vm_log "ping $ip from $ns"
	if ! out=$(ip netns exec "$ns" ping -n -c 5 -i 0.2 -W 3 "$ip" 2>&1); then
		echo "$out"
		vm_fail "ping from $ns to $ip across ixy-fwd failed"
	fi
	echo "$out" | tail -n 2
	grep -q ' 0% packet loss' <<<"$out" || vm_fail "ping from $ns to $ip lost packets"
	neigh=$(ip -n "$ns" neigh show "$ip")
	[[ "$neigh" == *"lladdr $mac "* ]] || vm_fail "ARP in $ns: '$neigh', expected lladdr $mac"
	vm_log "ok: ARP in $ns resolved $ip to $mac, 5/5 echo replies"
}
ping_across "$VM_NS_H1" $VM_IP2 "$mac2"
ping_across "$VM_NS_H2" $VM_IP1 "$mac1"

vm_prog_stop fwd
vm_section fwd | grep -E '^stats ' || vm_fail "ixy-fwd printed no stats lines"
vm_finish
echo PASS
