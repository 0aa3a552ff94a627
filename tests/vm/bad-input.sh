#!/bin/bash
# vm_bad_input: wrong input and a wrong environment end with a message on stderr and a non-zero
# exit status, never a signal (a crash shows as 128+N). Cases: a PCI address that is not a NIC
# (first or second port), one where no device exists, one that is not a PCI address, the same
# device twice, options out of range, and no huge pages reserved. Finally a normal run must still
# work: the failures left neither the devices nor the huge pages unusable.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd ixy-pktgen

vm_boot "$VM_SRC_DIR/guest/bad-input.sh"

# expect_error TAG WHAT ERE: the step failed cleanly and its message matches ERE (grep -Ei).
expect_error() {
	local tag=$1 what=$2 re=$3 rc msg
	rc=$(vm_wait_end "$tag" 60)
	msg=$(vm_stderr "$tag")
	vm_log "$tag ($what): exit $rc, stderr: ${msg:-<empty>}"
	[[ "$rc" != 0 ]] || vm_fail "$tag ($what): exit status 0, expected an error"
	((rc < 128)) || vm_fail "$tag ($what): killed by signal $((rc - 128)) instead of an error exit"
	[[ -n "$msg" ]] || vm_fail "$tag ($what): no message on stderr"
	grep -Eqi -- "$re" <<<"$msg" || vm_fail "$tag ($what): the message does not mention /$re/"
}

expect_error fwd-not-a-nic "host bridge as port A" '0000:00:00\.0'
expect_error fwd-second-not-a-nic "ISA bridge as port B" '0000:00:01\.0'
expect_error pktgen-not-a-nic "ISA bridge" '0000:00:01\.0'
expect_error fwd-missing "empty slot" '0000:00:1f\.0'
expect_error pktgen-missing "empty slot" '0000:00:1f\.0'
expect_error fwd-malformed "not a PCI address" 'eth0'
expect_error fwd-same-device "same device twice" '0000:00:04\.0|same|different'
expect_error fwd-batch-0 "--batch 0" 'batch'
expect_error fwd-promisc-bad "--promisc maybe" 'promisc'
expect_error fwd-one-port "one port only" 'usage|PCI_B'
expect_error fwd-unknown-option "unknown option" 'bogus|usage'
expect_error pktgen-size-59 "--size 59" 'size'
expect_error pktgen-size-1515 "--size 1515" 'size'
expect_error pktgen-mac-bad "--dst-mac with a bad digit" 'dst-mac|mac'
vm_console | grep -qx '@@IXYVM note hugepages 0' || vm_fail "guest could not release its huge pages"
expect_error fwd-no-hugepages "no huge pages" 'huge'
expect_error pktgen-no-hugepages "no huge pages" 'huge'

rc=$(vm_wait_end control 60)
if [[ "$rc" != 0 ]]; then
	vm_section control >&2
	vm_fail "control run after the failures: exit status $rc, expected 0"
fi
vm_section control | grep -q "^ixy-fwd: forwarding $VM_PCI_A <-> $VM_PCI_B\$" ||
	vm_fail "control run did not forward"
vm_log "ok: control run forwarded and exited 0"
# The guest's notes from before the control run (printed before it starts, so on the console
# by now): the failed runs left no files on hugetlbfs and did not keep the pages from being
# reserved again (64, as at boot: guest/init).
vm_check_eq "huge pages reserved again (the guest's last hugepages note)" \
	"$(vm_console | sed -n 's/^@@IXYVM note hugepages //p' | tail -n 1)" 64
vm_check_eq "files left on hugetlbfs by the failed runs" \
	"$(vm_console | sed -n 's/^@@IXYVM note leftover hugetlbfs files: //p')" 0
vm_finish
echo PASS
