#!/bin/bash
# vm_refuse_kernel_link: the driver refuses a device whose kernel interface is up and carries an
# address or a route (the machine's own link), with a message naming it and a non-zero exit,
# and leaves that interface as it was, and the other device too: a free device named before the
# refused one is still bound to its kernel driver afterwards (ixy-fwd checks both before it
# touches either). It takes a device whose kernel interface is down (unbinding the kernel driver
# itself), and --force takes even a device in use. The guest loads its kernel's virtio_pci and
# virtio_net modules to have such interfaces (see guest/force.sh).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"
vm_require_bins ixy-fwd

vm_boot "$VM_SRC_DIR/guest/force.sh" --modules

# note_value KEY: the rest of the latest "@@IXYVM note KEY ..." line, once there is one.
note_value() {
	vm_wait_console "^@@IXYVM note $1 " 60 "guest note '$1'" >&2
	vm_console | sed -n "s/^@@IXYVM note $1 //p" | tail -n 1
}
vm_wait_console '^@@IXYVM note state before-addr ' 60 "guest module setup"
if vm_console | grep -q '^@@IXYVM note insmod'; then
	vm_fail "guest could not load its virtio modules: $(vm_console | grep '^@@IXYVM note insmod')"
fi
ia=$(note_value "iface $VM_PCI_A")
ib=$(note_value "iface $VM_PCI_B")
[[ -n "$ia" && -n "$ib" ]] || vm_fail "guest kernel made no interfaces for the virtio-net devices"
vm_log "guest kernel interfaces: $VM_PCI_A = $ia, $VM_PCI_B = $ib"
vm_check_eq "before step 1: $VM_PCI_A" "$(note_value "state before-addr")" \
	"driver=virtio-pci iface=$ia addr=1 route=1"

# expect_refusal TAG PCI IFACE
expect_refusal() {
	local tag=$1 pci=$2 ifname=$3 rc msg
	rc=$(vm_wait_end "$tag" 60)
	msg=$(vm_stderr "$tag")
	vm_log "$tag: exit $rc, stderr: ${msg:-<empty>}"
	[[ "$rc" != 0 ]] || vm_fail "$tag: ixy-fwd took $pci although $ifname is up with an address/route"
	((rc < 128)) || vm_fail "$tag: killed by signal $((rc - 128)) instead of refusing"
	grep -Eq -- "$pci|$ifname" <<<"$msg" || vm_fail "$tag: the message names neither $pci nor $ifname"
	vm_section "$tag" | grep -q '^ixy-fwd: forwarding' && vm_fail "$tag: ixy-fwd started forwarding"
	return 0
}
expect_refusal refuse-addr $VM_PCI_A "$ia"
vm_check_eq "after the refusal, $VM_PCI_A still" "$(note_value "state after-addr")" \
	"driver=virtio-pci iface=$ia addr=1 route=1"

vm_wait_console '^@@IXYVM note state before-route ' 30 "step 2 setup"
vm_check_eq "before step 2: $VM_PCI_B" "$(note_value "state before-route")" \
	"driver=virtio-pci iface=$ib addr=0 route=1"
expect_refusal refuse-route $VM_PCI_B "$ib"
vm_check_eq "after the refusal, $VM_PCI_B still" "$(note_value "state after-route")" \
	"driver=virtio-pci iface=$ib addr=0 route=1"
# A was checked first and is free: it must not have been unbound before B was found in use.
vm_check_eq "after the refusal of $VM_PCI_B, the free $VM_PCI_A still" \
	"$(note_value "state after-route-a")" "driver=virtio-pci iface=$ia addr=0 route=0"

vm_wait_console '^@@IXYVM note state before-addr-b-a ' 30 "step 2b setup"
vm_check_eq "before step 2b: $VM_PCI_B" "$(note_value "state before-addr-b")" \
	"driver=virtio-pci iface=$ib addr=1 route=2"
vm_check_eq "before step 2b: $VM_PCI_A" "$(note_value "state before-addr-b-a")" \
	"driver=virtio-pci iface=$ia addr=0 route=0"
expect_refusal refuse-addr-b $VM_PCI_B "$ib"
vm_check_eq "after the refusal, $VM_PCI_B still" "$(note_value "state after-addr-b")" \
	"driver=virtio-pci iface=$ib addr=1 route=2"
vm_check_eq "after the refusal of $VM_PCI_B, the free $VM_PCI_A still" \
	"$(note_value "state after-addr-b-a")" "driver=virtio-pci iface=$ia addr=0 route=0"

rc=$(vm_wait_end take-down 60)
vm_log "take-down: exit $rc, stderr: $(vm_stderr take-down)"
vm_check_eq "ixy-fwd on devices whose kernel interfaces are down: exit status" "$rc" 0
vm_section take-down | grep -q "^ixy-fwd: forwarding $VM_PCI_A <-> $VM_PCI_B\$" ||
	vm_fail "take-down: ixy-fwd did not forward"
vm_check_eq "after take-down, kernel driver on $VM_PCI_A" "$(note_value "state after-down-a")" \
	"driver=none iface= addr=0 route=0"

vm_wait_console '^@@IXYVM note state before-force ' 30 "step 4 setup"
ia=$(note_value "rebound $VM_PCI_A")
vm_check_eq "before step 4 (rebound to virtio-pci): $VM_PCI_A" "$(note_value "state before-force")" \
	"driver=virtio-pci iface=$ia addr=1 route=1"
rc=$(vm_wait_end force 60)
vm_log "force: exit $rc, stderr: $(vm_stderr force)"
vm_check_eq "ixy-fwd --force on an interface in use: exit status" "$rc" 0
vm_section force | grep -q "^ixy-fwd: forwarding $VM_PCI_A <-> $VM_PCI_B\$" ||
	vm_fail "force: ixy-fwd did not forward"
vm_check_eq "after --force, kernel driver on $VM_PCI_A" "$(note_value "state after-force")" \
	"driver=none iface= addr=0 route=0"
vm_finish
echo PASS
