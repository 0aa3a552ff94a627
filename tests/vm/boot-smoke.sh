#!/bin/bash
# vm_boot_smoke: the test bed itself, with busybox only. The guest boots, sees both legacy
# virtio-net devices at their fixed slots (vendor 0x1af4, transitional device 0x1000) with no
# kernel driver bound, has huge pages reserved and hugetlbfs mounted, reads lines the host writes
# to ttyS1 (also as a program's stdin), and powers off by itself.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
vm_init "$@"

vm_boot "$VM_SRC_DIR/guest/smoke.sh"
vm_wait_console "^@@IXYVM wait line\$" 30 "guest report"
for pci in $VM_PCI_A $VM_PCI_B; do
	vm_console | grep -qx "@@IXYVM note pci $pci 0x1af4 0x1000 driver=none" ||
		vm_fail "guest does not show $pci as a legacy virtio-net device without driver"
	vm_log "ok: guest sees $pci 0x1af4:0x1000, no driver bound"
done
vm_console | grep -qx '@@IXYVM hugepages 64' || vm_fail "guest did not reserve 64 huge pages"
vm_console | grep -qx '@@IXYVM note hugetlbfs 1' || vm_fail "hugetlbfs not mounted on /mnt/huge"
vm_log "ok: 64 huge pages, hugetlbfs on /mnt/huge"

vm_send go
vm_send "hello guest"
vm_wait_console "^@@IXYVM note got 'hello guest'\$" 10 "line over ttyS1"
vm_log "ok: guest read a line from ttyS1"
vm_wait_console '^@@IXYVM start cat-stop$' 10 "stdin program"
vm_send one
vm_send stop
rc=$(vm_wait_end cat-stop 10)
vm_check_eq "exit status of a program stopped over ttyS1" "$rc" 7
vm_section cat-stop | grep -qx 'read one' || vm_fail "program did not read 'one' from stdin"
vm_finish
echo "PASS"
