#!/bin/bash
# vm_pktgen_sequence: ixy-pktgen in the guest; a receiver on the host tap checks every frame
# against the format in docs/tools.md (size, MACs, IPv4 header and checksum, UDP header, "IXYG",
# zero padding) and the sequence numbers: exactly 0 .. tx_packets-1, each once, in order. The
# tap's own rx counters must agree with the generator's tx counters. Four runs: 5000 frames of
# 60 bytes to broadcast on port A, 1000 frames of 1514 bytes to a unicast MAC on port B, an
# open-ended run on port A ended by "stop", and one on port B ended by SIGTERM in the guest.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-pktgen

vm_boot "$VM_SRC_DIR/guest/pktgen.sh"

# run_step TAG PCI NS TAP SRC_MAC SIZE DST_MAC COUNT ("-" for the open-ended run)
run_step() {
	local tag=$1 pci=$2 ns=$3 tap=$4 src=$5 size=$6 dst=$7 count=$8
	local expect=() base
	[[ $count != - ]] && expect=(--expect "$count")
	read -r -a base <<<"$(vm_counters "$ns" "$tap")"
	vm_helper_start "$VM_TMP/$tag.json" python3 "$VM_SRC_DIR/hostnet.py" pktgen --port "$ns:$tap" \
		--src-mac "$src" --dst-mac "$dst" --size "$size" --ready "$VM_TMP/$tag.ready" "${expect[@]}"
	local rx_pid=${VM_HELPER_PIDS[-1]}
	for _ in $(seq 50); do [[ -e "$VM_TMP/$tag.ready" ]] && break; sleep 0.1; done
	[[ -e "$VM_TMP/$tag.ready" ]] || vm_fail "receiver did not start: $(cat "$VM_TMP/$tag.json")"
	vm_step_go "$tag"
	# This step's line: step "stopped" runs on the device step "small" printed the same line for.
	if ! vm_wait_step "$tag" "^ixy-pktgen: sending on $pci\$" 60 "ixy-pktgen start-up"; then
		vm_section "$tag" >&2
		vm_fail "pktgen $tag: ixy-pktgen exited before it sent"
	fi
	vm_log "pktgen $tag: sending on $pci, size $size, dst $dst, count $count"
	local rc
	if [[ $tag == term ]]; then
		rc=$(vm_wait_end "$tag" 60)
		vm_check_eq "pktgen $tag: exit status after SIGTERM" "$rc" 0
	elif [[ $count == - ]]; then
		sleep 2
		vm_prog_stop "$tag"
	else
		rc=$(vm_wait_end "$tag" 90)
		vm_check_eq "pktgen $tag: exit status" "$rc" 0
	fi
	wait "$rx_pid" || vm_fail "receiver failed: $(cat "$VM_TMP/$tag.json")"
	local now
	read -r -a now <<<"$(vm_counters "$ns" "$tap")"
	vm_section "$tag" | grep -E '^stats '
	echo "receiver: $(cat "$VM_TMP/$tag.json")"

	local sent sent_bytes
	sent=$(vm_stat "$tag" "$pci" tx_packets)
	sent_bytes=$(vm_stat "$tag" "$pci" tx_bytes)
	[[ $count != - ]] && vm_check_eq "pktgen $tag: tx_packets" "$sent" "$count"
	((sent > 0)) || vm_fail "pktgen $tag: sent nothing"
	vm_check_eq "pktgen $tag: tx_bytes" "$sent_bytes" $((sent * size))
	local summary
	summary=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["received"], r["bad_format"], r["duplicates"], r["out_of_order"], r["in_order_from_zero"], r["socket_drops"])
print(r["first_bad"])' "$VM_TMP/$tag.json")
	local received bad dups ooo in_order drops first_bad
	read -r received bad dups ooo in_order drops <<<"$(head -n 1 <<<"$summary")"
	first_bad=$(tail -n 1 <<<"$summary")
	vm_check_eq "pktgen $tag: receiver socket drops (host-side loss, not the driver's)" "$drops" 0
	vm_check_eq "pktgen $tag: malformed frames (first: $first_bad)" "$bad" 0
	vm_check_eq "pktgen $tag: frames received" "$received" "$sent"
	vm_check_eq "pktgen $tag: duplicate sequence numbers" "$dups" 0
	vm_check_eq "pktgen $tag: sequence numbers out of order" "$ooo" 0
	vm_check_eq "pktgen $tag: sequence numbers are exactly 0..$((sent - 1))" "$in_order" True
	vm_check_eq "pktgen $tag: $tap rx_packets delta" "$((now[0] - base[0]))" "$sent"
	vm_check_eq "pktgen $tag: $tap rx_bytes delta" "$((now[1] - base[1]))" "$sent_bytes"
}

run_step small $VM_PCI_A "$VM_NS_H1" $VM_TAP1 $VM_MAC_A 60 ff:ff:ff:ff:ff:ff 5000
run_step big $VM_PCI_B "$VM_NS_H2" $VM_TAP2 $VM_MAC_B 1514 02:00:00:00:00:42 1000
run_step stopped $VM_PCI_A "$VM_NS_H1" $VM_TAP1 $VM_MAC_A 60 ff:ff:ff:ff:ff:ff -
run_step term $VM_PCI_B "$VM_NS_H2" $VM_TAP2 $VM_MAC_B 60 ff:ff:ff:ff:ff:ff -
vm_finish
echo PASS
