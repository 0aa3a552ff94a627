#!/bin/bash
# The README's main job, for a human to watch: ixy-fwd in a QEMU guest forwards between two
# network namespaces on this host; we ping across it and print the forwarder's figures.
#
#   sudo tests/vm/main-job.sh [--build-dir build]   (default: build/ next to tests/)
#
# Needs root, qemu-system-x86_64 and busybox-static; downloads the Debian kernel package once
# into BUILD/vm-cache. Everything it creates (namespaces, taps, qemu) is removed at exit.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
if [[ $# -eq 0 ]]; then
	set -- --build-dir "$(cd "$VM_SRC_DIR/../.." && pwd)/build"
fi
vm_init "$@"
vm_require_bins ixy-fwd

step=0
say() {
	step=$((step + 1))
	printf '\n==> %d. %s\n' "$step" "$*"
}

say "Boot a Debian kernel under QEMU (software emulation) with two legacy virtio-net devices,
    $VM_PCI_A ($VM_MAC_A) and $VM_PCI_B ($VM_MAC_B), whose tap backends sit in the
    namespaces $VM_NS_H1 ($VM_IP1/24) and $VM_NS_H2 ($VM_IP2/24)."
vm_boot "$VM_SRC_DIR/guest/fwd.sh"

say "Start ixy-fwd in the guest: our virtio driver takes both devices and forwards between them."
vm_fwd_start fwd
vm_section fwd | grep '^ixy-fwd'

say "Ping $VM_IP2 ($VM_NS_H2) from $VM_NS_H1: ARP and ICMP cross the forwarder."
ip netns exec "$VM_NS_H1" ping -n -c 10 -i 0.2 -W 3 $VM_IP2 || vm_fail "ping across the forwarder failed"

say "Neighbour table in $VM_NS_H1 (learned through the forwarder):"
ip -n "$VM_NS_H1" neigh show

say "Ping back from $VM_NS_H2 to $VM_IP1."
ip netns exec "$VM_NS_H2" ping -n -c 5 -i 0.2 -W 3 $VM_IP1 || vm_fail "ping back failed"

say "Stop the forwarder (a 'stop' line on its standard input, over the guest's second serial port)."
vm_prog_stop fwd

say "The forwarder's figures: per-second rates while it ran, then the driver's counters."
vm_section fwd | grep -E '^\[|^stats '

say "Host side: the taps' counters (tx = towards the guest, rx = from the guest)."
for ns_tap in "$VM_NS_H1 $VM_TAP1" "$VM_NS_H2 $VM_TAP2"; do
	read -r ns tap <<<"$ns_tap"
	read -r rxp rxb txp txb _ <<<"$(vm_counters "$ns" "$tap")"
	echo "$tap ($ns): tx_packets=$txp tx_bytes=$txb rx_packets=$rxp rx_bytes=$rxb"
done

say "Power off the guest; the namespaces and taps are removed on exit."
vm_finish
echo
echo "main job done"
