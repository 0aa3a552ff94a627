#!/bin/bash
# vm_fwd_reopen: devices opened again in the same boot, after another program closed (reset)
# them, forward the very first frames sent once the new program says it forwards. Six ixy-fwd
# runs in one boot; with static neighbours on both hosts (no ARP that could hide or retry a loss),
# each run is sent 3 pings each way as soon as its "forwarding" line is on the console, and must
# answer all of them; its final counters must equal the taps' deltas exactly (6 frames in and 6
# out on each port). Each run's pings must start after that run's own "forwarding" line, not an
# earlier run's: the console then holds exactly as many such lines as runs so far.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd

runs=6
vm_boot "$VM_SRC_DIR/guest/reopen.sh"
mac1=$(vm_mac "$VM_NS_H1" $VM_TAP1)
mac2=$(vm_mac "$VM_NS_H2" $VM_TAP2)
ip -n "$VM_NS_H1" neigh replace $VM_IP2 lladdr "$mac2" dev $VM_TAP1 nud permanent
ip -n "$VM_NS_H2" neigh replace $VM_IP1 lladdr "$mac1" dev $VM_TAP2 nud permanent
vm_log "static neighbours: $VM_IP2 is $mac2 in $VM_NS_H1, $VM_IP1 is $mac1 in $VM_NS_H2"

for ((i = 1; i <= runs; i++)); do
	tag=reopen$i
	read -r -a t1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
	read -r -a t2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
	vm_fwd_start $tag
	# The premise first: a failure here is the bed's, not the driver's.
	vm_check_eq "$tag: 'forwarding' lines on the console before the pings" \
		"$(vm_console_count "^ixy-fwd: forwarding $VM_PCI_A <-> $VM_PCI_B\$")" "$i"
	vm_ping_ok "$VM_NS_H1" $VM_IP2 3 | tail -n 2
	vm_ping_ok "$VM_NS_H2" $VM_IP1 3 | tail -n 2
	vm_prog_stop $tag
	read -r -a n1 <<<"$(vm_counters "$VM_NS_H1" $VM_TAP1)"
	read -r -a n2 <<<"$(vm_counters "$VM_NS_H2" $VM_TAP2)"
	# vm_counters: rx_packets rx_bytes tx_packets tx_bytes tx_dropped
	vm_check_eq "$tag: $VM_TAP1 tx_packets delta" "$((n1[2] - t1[2]))" 6
	vm_check_eq "$tag: $VM_TAP2 tx_packets delta" "$((n2[2] - t2[2]))" 6
	vm_check_eq "$tag: $VM_PCI_A rx_packets" "$(vm_stat $tag $VM_PCI_A rx_packets)" 6
	vm_check_eq "$tag: $VM_PCI_B rx_packets" "$(vm_stat $tag $VM_PCI_B rx_packets)" 6
	vm_check_eq "$tag: $VM_PCI_A tx_packets" "$(vm_stat $tag $VM_PCI_A tx_packets)" 6
	vm_check_eq "$tag: $VM_PCI_B tx_packets" "$(vm_stat $tag $VM_PCI_B tx_packets)" 6
	vm_check_eq "$tag: $VM_PCI_A tx_packets = $VM_TAP1 rx_packets delta" \
		"$(vm_stat $tag $VM_PCI_A tx_packets)" "$((n1[0] - t1[0]))"
	vm_check_eq "$tag: $VM_PCI_B tx_packets = $VM_TAP2 rx_packets delta" \
		"$(vm_stat $tag $VM_PCI_B tx_packets)" "$((n2[0] - t2[0]))"
done
vm_log "ok: $runs runs in one boot, every device reopened $((runs - 1)) times, lost nothing"
vm_finish
echo PASS
