#!/bin/bash
# vm_device_claim: a device one program drives is refused to every other program (the claim of
# drivers/pci.c), and the driving program goes on undisturbed. While a first ixy-fwd forwards
# between the two devices, ixy-pktgen on A, a second ixy-fwd A B, an ixy-fwd B A and ixyd on
# A and B each exit non-zero (no signal) with a message that the device is driven by another
# program; pings across the first forwarder succeed before and after those attempts, and it
# exits 0 on SIGTERM. Once it has exited, a new ixy-fwd takes both devices and forwards.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd ixy-pktgen ixyd

vm_boot "$VM_SRC_DIR/guest/device-claim.sh"

# ping_both COUNT: pings both ways across the forwarder, every one answered.
ping_both() {
	vm_ping_ok "$VM_NS_H1" $VM_IP2 "$1" | tail -n 2
	vm_ping_ok "$VM_NS_H2" $VM_IP1 "$1" | tail -n 2
}

# expect_claimed TAG PCI WHAT: step TAG was refused PCI because another program drives it.
expect_claimed() {
	local tag=$1 pci=$2 what=$3 rc msg
	rc=$(vm_wait_end "$tag" 60)
	msg=$(vm_stderr "$tag")
	vm_log "$tag ($what): exit $rc, stderr: ${msg:-<empty>}"
	[[ "$rc" != 0 ]] || vm_fail "$tag: $what while ixy-fwd drives $pci: exit status 0, expected a refusal"
	((rc < 128)) || vm_fail "$tag: $what: killed by signal $((rc - 128)) instead of a refusal"
	grep -Eq -- "$pci.* driven by another" <<<"$msg" ||
		vm_fail "$tag: $what: no message that $pci is driven by another program"
}

vm_fwd_start first
ping_both 3

vm_go busy
expect_claimed pktgen-busy $VM_PCI_A "ixy-pktgen $VM_PCI_A"
expect_claimed fwd-busy $VM_PCI_A "a second ixy-fwd $VM_PCI_A $VM_PCI_B"
expect_claimed fwd-busy-b $VM_PCI_B "ixy-fwd $VM_PCI_B $VM_PCI_A"
expect_claimed ixyd-busy $VM_PCI_A "ixyd with ports on $VM_PCI_A and $VM_PCI_B"
vm_log "ok: every other program was refused; the first ixy-fwd still forwards:"
ping_both 5

vm_bg_signal first TERM
rc=$(vm_wait_end first 30)
if [[ "$rc" != 0 ]]; then
	vm_section first | grep -v '^\[' >&2
	vm_fail "the first ixy-fwd exited with status $rc after SIGTERM, expected 0"
fi
# Both pings rounds crossed it: 8 echo requests and 8 replies each way, and ARP.
for pci in $VM_PCI_A $VM_PCI_B; do
	n=$(vm_stat first "$pci" rx_packets)
	((n >= 16)) || vm_fail "the first ixy-fwd received $n frames on $pci, expected at least 16"
	vm_log "ok: the first ixy-fwd received $n frames on $pci and exited 0"
done

vm_fwd_start again
ping_both 3
vm_prog_stop again
vm_log "ok: once the first ixy-fwd had exited, a new one took both devices and forwarded"
vm_finish
echo PASS
