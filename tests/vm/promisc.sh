#!/bin/bash
# vm_fwd_promisc: with promiscuous mode off, frames to a foreign unicast MAC are not received
# (neither forwarded nor counted in rx_packets), while broadcast frames and frames to the port's
# own MAC still are; with it on, all three arrive. Frames are sent from h1 into port A and
# counted in h2 after crossing ixy-fwd.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd

foreign=02:00:00:00:00:99
n=50
vm_boot "$VM_SRC_DIR/guest/promisc.sh"

# run_step TAG FOREIGN_EXPECTED
run_step() {
	local tag=$1 want_foreign=$2
	vm_fwd_start "$tag"
	vm_log "promisc $tag: $n frames each to $foreign (foreign), broadcast, $VM_MAC_A (port A)"
	vm_hostnet send --src "$VM_NS_H1:$VM_TAP1" --dst "$VM_NS_H2:$VM_TAP2" --json "$VM_TMP/$tag.json" \
		--frames "foreign,$foreign,$n,60" --frames "bcast,ff:ff:ff:ff:ff:ff,$n,60" \
		--frames "own,$VM_MAC_A,$n,60" || vm_fail "promisc $tag: frames corrupted"
	vm_prog_stop "$tag"
	local got
	got=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["foreign"], r["bcast"], r["own"])' \
		"$VM_TMP/$tag.json")
	read -r g_foreign g_bcast g_own <<<"$got"
	vm_check_eq "promisc $tag: broadcast frames forwarded" "$g_bcast" $n
	vm_check_eq "promisc $tag: frames to the port's own MAC forwarded" "$g_own" $n
	vm_check_eq "promisc $tag: frames to a foreign MAC forwarded" "$g_foreign" "$want_foreign"
	vm_check_eq "promisc $tag: $VM_PCI_A rx_packets" "$(vm_stat "$tag" $VM_PCI_A rx_packets)" \
		$((2 * n + want_foreign))
}
run_step off 0
run_step on $n
vm_finish
echo PASS
